//! The transactional loop's consumer context: rebalance callbacks only
//! record assignment changes, which the loop applies after `poll` returns.

use std::sync::{Mutex, PoisonError};

use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientContext, TopicPartitionList};

use super::processor::TopicPartition;
use crate::kafka::rebalance::{apply_rebalance, is_partition_eof};

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
    /// From the configured assignment strategy; see `kafka::rebalance`.
    cooperative: bool,
    changes: Mutex<Vec<AssignmentChange>>,
}

impl LoopContext {
    pub(super) fn new(name: String, cooperative: bool) -> Self {
        Self {
            name,
            cooperative,
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

impl ClientContext for LoopContext {
    fn error(&self, error: KafkaError, reason: &str) {
        if !is_partition_eof(&error) {
            tracing::error!(name = %self.name, %error, reason, "librdkafka error");
        }
    }
}

impl ConsumerContext for LoopContext {
    /// rdkafka's default, minus its `rebalance_protocol()` query.
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        partitions: &mut TopicPartitionList,
    ) {
        let rebalance = match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => Rebalance::Assign(partitions),
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => Rebalance::Revoke(partitions),
            _ => Rebalance::Error(KafkaError::Rebalance(err.into())),
        };
        self.pre_rebalance(consumer, &rebalance);
        apply_rebalance(consumer, err, partitions, self.cooperative);
        self.post_rebalance(consumer, &rebalance);
    }

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
