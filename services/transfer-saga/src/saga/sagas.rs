//! The transfers of the partitions this instance owns, with the changes of
//! the open transaction staged on top.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use eventbank_events::{EventId, TransferId, TransferSagaSnapshot};

use crate::domain::{DebitSeen, Timing, finished_at};

#[derive(Debug, Default)]
pub struct Sagas {
    /// Per partition: transfers still in flight.
    pending: HashMap<i32, HashMap<TransferId, Pending>>,
    /// Per partition: finished transfers not yet past their retention.
    finished: HashMap<i32, Finished>,
    /// Per partition: restored finished transfers already past their
    /// retention, not loaded, whose `transfer-state` key still needs its
    /// tombstone (their instance stopped before its tick wrote it).
    tombstones_due: HashMap<i32, HashSet<TransferId>>,
    /// Changes of the open transaction.
    staged: HashMap<TransferId, Staged>,
    /// Finished transfers the open transaction tombstones.
    forgetting: Vec<(i32, TransferId)>,
}

/// One partition's finished transfers: only what tells a late repeat of
/// their debit (ignored) from a different debit under their id (an
/// anomaly), and when they finished — not whole snapshots, as they are most
/// of what is kept.
#[derive(Debug, Default)]
struct Finished {
    sagas: HashMap<TransferId, FinishedSaga>,
    /// The same transfers, oldest first: expiry reads only the expired front
    /// instead of scanning them all on every tick.
    by_age: BTreeSet<(DateTime<Utc>, TransferId)>,
}

#[derive(Debug, Clone, Copy)]
struct FinishedSaga {
    debit: DebitSeen,
    finished_at: DateTime<Utc>,
}

impl Finished {
    fn insert(&mut self, state: &TransferSagaSnapshot, debit_event: Option<EventId>) {
        let id = state.transfer_id;
        let saga = FinishedSaga {
            debit: DebitSeen::of_saga(state, debit_event),
            finished_at: finished_at(state),
        };
        if let Some(earlier) = self.sagas.insert(id, saga) {
            self.by_age.remove(&(earlier.finished_at, id));
        }
        self.by_age.insert((saga.finished_at, id));
    }

    fn remove(&mut self, id: TransferId) {
        if let Some(earlier) = self.sagas.remove(&id) {
            self.by_age.remove(&(earlier.finished_at, id));
        }
    }
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
    /// Loads a partition's snapshots (in log order: the last of a key wins)
    /// at `now`. A finished transfer already past its retention is not
    /// loaded, only queued for its tombstone.
    pub fn restore(
        &mut self,
        partition: i32,
        snapshots: Vec<TransferSagaSnapshot>,
        now: DateTime<Utc>,
        timing: &Timing,
    ) {
        let pending = self.pending.entry(partition).or_default();
        let finished = self.finished.entry(partition).or_default();
        let due = self.tombstones_due.entry(partition).or_default();
        for snapshot in snapshots {
            let id = snapshot.transfer_id;
            pending.remove(&id);
            finished.remove(id);
            due.remove(&id);
            if !snapshot.step.is_terminal() {
                pending.insert(
                    id,
                    Pending {
                        snapshot,
                        debit_event: None,
                    },
                );
            } else if timing.is_past_retention(finished_at(&snapshot), now) {
                due.insert(id);
            } else {
                finished.insert(&snapshot, None);
            }
        }
    }

    pub fn drop_partition(&mut self, partition: i32) {
        self.pending.remove(&partition);
        self.finished.remove(&partition);
        self.tombstones_due.remove(&partition);
        self.staged
            .retain(|_, staged| staged.partition != partition);
        self.forgetting.retain(|(p, _)| *p != partition);
    }

    /// Whether the transfer has finished (committed or staged).
    pub fn is_finished(&self, partition: i32, id: TransferId) -> bool {
        match self.staged.get(&id) {
            Some(staged) => staged.snapshot.step.is_terminal(),
            None => self
                .finished
                .get(&partition)
                .is_some_and(|finished| finished.sagas.contains_key(&id)),
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
            .and_then(|finished| finished.sagas.get(&id))
            .map(|saga| saga.debit)
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
                    .insert(&snapshot, debit_event);
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
        for (partition, id) in self.forgetting.drain(..) {
            if let Some(finished) = self.finished.get_mut(&partition) {
                finished.remove(id);
            }
            if let Some(due) = self.tombstones_due.get_mut(&partition) {
                due.remove(&id);
            }
        }
    }

    pub fn abort(&mut self) {
        self.staged.clear();
        self.forgetting.clear();
    }

    /// Up to `limit` finished transfers to forget at `now` — those queued at
    /// restore, then those past their retention, oldest first — staged to
    /// be dropped when the transaction carrying their tombstones commits.
    pub fn expire(
        &mut self,
        now: DateTime<Utc>,
        timing: &Timing,
        limit: usize,
    ) -> Vec<(i32, TransferId)> {
        let queued = self
            .tombstones_due
            .iter()
            .flat_map(|(partition, due)| due.iter().map(move |id| (*partition, *id)));
        let expired = self.finished.iter().flat_map(|(partition, finished)| {
            finished
                .by_age
                .iter()
                .take_while(|(finished_at, _)| timing.is_past_retention(*finished_at, now))
                .map(move |(_, id)| (*partition, *id))
        });
        let selected: Vec<_> = queued.chain(expired).take(limit).collect();
        self.forgetting.extend_from_slice(&selected);
        selected
    }

    /// How many finished transfers are remembered.
    pub fn finished_count(&self) -> usize {
        self.finished
            .values()
            .map(|finished| finished.sagas.len())
            .sum()
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

#[cfg(test)]
mod tests;
