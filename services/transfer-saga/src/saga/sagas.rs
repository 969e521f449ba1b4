//! The transfers of the partitions this instance owns, with the changes of
//! the open transaction staged on top.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use eventbank_events::{TransferId, TransferSagaSnapshot};

#[derive(Debug, Default)]
pub struct Sagas {
    /// Per partition: transfers still in flight.
    pending: HashMap<i32, HashMap<TransferId, TransferSagaSnapshot>>,
    /// Per partition: finished transfers, only their ids — enough to ignore
    /// any late repeat of one of their legs.
    finished: HashMap<i32, HashSet<TransferId>>,
    /// Changes of the open transaction.
    staged: HashMap<TransferId, (i32, TransferSagaSnapshot)>,
}

impl Sagas {
    pub fn restore(&mut self, partition: i32, snapshots: Vec<TransferSagaSnapshot>) {
        let pending = self.pending.entry(partition).or_default();
        let finished = self.finished.entry(partition).or_default();
        for snapshot in snapshots {
            if snapshot.step.is_terminal() {
                pending.remove(&snapshot.transfer_id);
                finished.insert(snapshot.transfer_id);
            } else {
                pending.insert(snapshot.transfer_id, snapshot);
            }
        }
    }

    pub fn drop_partition(&mut self, partition: i32) {
        self.pending.remove(&partition);
        self.finished.remove(&partition);
        self.staged.retain(|_, (p, _)| *p != partition);
    }

    /// Whether the transfer has finished (committed or staged).
    pub fn is_finished(&self, partition: i32, id: TransferId) -> bool {
        match self.staged.get(&id) {
            Some((_, staged)) => staged.step.is_terminal(),
            None => self
                .finished
                .get(&partition)
                .is_some_and(|finished| finished.contains(&id)),
        }
    }

    /// The transfer's current state, staged changes included.
    pub fn get(&self, partition: i32, id: TransferId) -> Option<&TransferSagaSnapshot> {
        self.staged.get(&id).map(|(_, staged)| staged).or_else(|| {
            self.pending
                .get(&partition)
                .and_then(|pending| pending.get(&id))
        })
    }

    pub fn stage(&mut self, partition: i32, snapshot: TransferSagaSnapshot) {
        self.staged
            .insert(snapshot.transfer_id, (partition, snapshot));
    }

    pub fn commit(&mut self) {
        for (id, (partition, snapshot)) in self.staged.drain() {
            let pending = self.pending.entry(partition).or_default();
            if snapshot.step.is_terminal() {
                pending.remove(&id);
                self.finished.entry(partition).or_default().insert(id);
            } else {
                pending.insert(id, snapshot);
            }
        }
    }

    pub fn abort(&mut self) {
        self.staged.clear();
    }

    /// Every committed pending transfer with its partition.
    pub fn pending(&self) -> impl Iterator<Item = (i32, &TransferSagaSnapshot)> {
        self.pending
            .iter()
            .flat_map(|(partition, sagas)| sagas.values().map(move |saga| (*partition, saga)))
    }

    /// How many transfers are pending, and since when the oldest.
    pub fn backlog(&self) -> (usize, Option<DateTime<Utc>>) {
        let count = self.pending.values().map(HashMap::len).sum();
        let oldest = self.pending().map(|(_, saga)| saga.started_at).min();
        (count, oldest)
    }
}
