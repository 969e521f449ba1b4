//! The transfers of the partitions this instance owns, with the changes of
//! the open transaction staged on top.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use eventbank_events::{EventId, TransferId, TransferSagaSnapshot};

use crate::domain::DebitSeen;

#[derive(Debug, Default)]
pub struct Sagas {
    /// Per partition: transfers still in flight.
    pending: HashMap<i32, HashMap<TransferId, Pending>>,
    /// Per partition: finished transfers, only what tells a late repeat of
    /// their debit (ignored) from a different debit under their id (an
    /// anomaly) — not the whole snapshot, as they are most of what is kept.
    finished: HashMap<i32, HashMap<TransferId, DebitSeen>>,
    /// Changes of the open transaction.
    staged: HashMap<TransferId, Staged>,
}

#[derive(Debug)]
struct Pending {
    snapshot: TransferSagaSnapshot,
    /// The id of the debit event, if this instance saw it (see [`DebitSeen`]).
    debit_event: Option<EventId>,
}

#[derive(Debug)]
struct Staged {
    partition: i32,
    snapshot: TransferSagaSnapshot,
    debit_event: Option<EventId>,
}

impl Sagas {
    pub fn restore(&mut self, partition: i32, snapshots: Vec<TransferSagaSnapshot>) {
        let pending = self.pending.entry(partition).or_default();
        let finished = self.finished.entry(partition).or_default();
        for snapshot in snapshots {
            if snapshot.step.is_terminal() {
                pending.remove(&snapshot.transfer_id);
                finished.insert(snapshot.transfer_id, DebitSeen::of_saga(&snapshot, None));
            } else {
                finished.remove(&snapshot.transfer_id);
                pending.insert(
                    snapshot.transfer_id,
                    Pending {
                        snapshot,
                        debit_event: None,
                    },
                );
            }
        }
    }

    pub fn drop_partition(&mut self, partition: i32) {
        self.pending.remove(&partition);
        self.finished.remove(&partition);
        self.staged
            .retain(|_, staged| staged.partition != partition);
    }

    /// Whether the transfer has finished (committed or staged).
    pub fn is_finished(&self, partition: i32, id: TransferId) -> bool {
        match self.staged.get(&id) {
            Some(staged) => staged.snapshot.step.is_terminal(),
            None => self
                .finished
                .get(&partition)
                .is_some_and(|finished| finished.contains_key(&id)),
        }
    }

    /// The debit the transfer started with, if it has a saga here (pending
    /// or finished, staged changes included).
    pub fn debit_seen(&self, partition: i32, id: TransferId) -> Option<DebitSeen> {
        if let Some(staged) = self.staged.get(&id) {
            return Some(DebitSeen::of_saga(&staged.snapshot, staged.debit_event));
        }
        if let Some(pending) = self.pending.get(&partition).and_then(|p| p.get(&id)) {
            return Some(DebitSeen::of_saga(&pending.snapshot, pending.debit_event));
        }
        self.finished
            .get(&partition)
            .and_then(|finished| finished.get(&id))
            .copied()
    }

    /// The transfer's current state, staged changes included.
    pub fn get(&self, partition: i32, id: TransferId) -> Option<&TransferSagaSnapshot> {
        self.staged
            .get(&id)
            .map(|staged| &staged.snapshot)
            .or_else(|| {
                self.pending
                    .get(&partition)
                    .and_then(|pending| pending.get(&id))
                    .map(|pending| &pending.snapshot)
            })
    }

    /// Stages the transfer's new state; `debit_event` is the id of the debit
    /// that started it, if this input was that debit (otherwise what is
    /// already known is kept).
    pub fn stage(
        &mut self,
        partition: i32,
        snapshot: TransferSagaSnapshot,
        debit_event: Option<EventId>,
    ) {
        let id = snapshot.transfer_id;
        let debit_event = debit_event.or_else(|| {
            self.staged
                .get(&id)
                .and_then(|staged| staged.debit_event)
                .or_else(|| {
                    self.pending
                        .get(&partition)
                        .and_then(|pending| pending.get(&id))
                        .and_then(|pending| pending.debit_event)
                })
        });
        self.staged.insert(
            id,
            Staged {
                partition,
                snapshot,
                debit_event,
            },
        );
    }

    pub fn commit(&mut self) {
        for (id, staged) in self.staged.drain() {
            let Staged {
                partition,
                snapshot,
                debit_event,
            } = staged;
            let pending = self.pending.entry(partition).or_default();
            if snapshot.step.is_terminal() {
                pending.remove(&id);
                self.finished
                    .entry(partition)
                    .or_default()
                    .insert(id, DebitSeen::of_saga(&snapshot, debit_event));
            } else {
                pending.insert(
                    id,
                    Pending {
                        snapshot,
                        debit_event,
                    },
                );
            }
        }
    }

    pub fn abort(&mut self) {
        self.staged.clear();
    }

    /// Every committed pending transfer with its partition.
    pub fn pending(&self) -> impl Iterator<Item = (i32, &TransferSagaSnapshot)> {
        self.pending.iter().flat_map(|(partition, sagas)| {
            sagas.values().map(move |saga| (*partition, &saga.snapshot))
        })
    }

    /// How many transfers are pending, and since when the oldest.
    pub fn backlog(&self) -> (usize, Option<DateTime<Utc>>) {
        let count = self.pending.values().map(HashMap::len).sum();
        let oldest = self.pending().map(|(_, saga)| saga.started_at).min();
        (count, oldest)
    }
}
