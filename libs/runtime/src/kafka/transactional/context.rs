use std::sync::{Mutex, PoisonError};

use rdkafka::ClientContext;
use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};

use super::processor::TopicPartition;

/// A change of assignment, recorded inside `poll` and acted on by the loop right
/// after it, before any record of an assigned partition is handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum AssignmentChange {
    Assigned(Vec<TopicPartition>),
    Revoked(Vec<TopicPartition>),
}

#[derive(Debug)]
pub(super) struct LoopContext {
    name: String,
    changes: Mutex<Vec<AssignmentChange>>,
}

impl LoopContext {
    pub(super) fn new(name: String) -> Self {
        Self {
            name,
            changes: Mutex::new(Vec::new()),
        }
    }

    pub(super) fn take_changes(&self) -> Vec<AssignmentChange> {
        std::mem::take(&mut *self.changes.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn partitions(list: &rdkafka::TopicPartitionList) -> Vec<TopicPartition> {
        list.elements()
            .iter()
            .map(|elem| TopicPartition {
                topic: elem.topic().to_owned(),
                partition: elem.partition(),
            })
            .collect()
    }

    fn push(&self, change: AssignmentChange) {
        self.changes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(change);
    }
}

impl ClientContext for LoopContext {}

impl ConsumerContext for LoopContext {
    fn pre_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            let partitions = Self::partitions(list);
            tracing::info!(name = %self.name, ?partitions, "partitions revoked");
            self.push(AssignmentChange::Revoked(partitions));
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(list) => {
                let partitions = Self::partitions(list);
                tracing::info!(name = %self.name, ?partitions, "partitions assigned");
                self.push(AssignmentChange::Assigned(partitions));
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(err) => tracing::warn!(error = %err, "rebalance error"),
        }
    }
}
