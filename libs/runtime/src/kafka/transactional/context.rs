//! The transactional loop's consumer context: rebalance callbacks only
//! record assignment changes, which the loop applies after `poll` returns;
//! librdkafka's statistics (delivered inside `poll` too) give each owned
//! partition's lag without a call to the broker.

use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};

use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::statistics::Statistics;
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientContext, TopicPartitionList};

use super::metrics::LoopMetrics;
use super::processor::TopicPartition;
use crate::kafka::OwnedRecord;
use crate::kafka::rebalance::{apply_rebalance, is_partition_eof};
use crate::kafka::time_lag::{TimeLag, now_ms};

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
    metrics: LoopMetrics,
    clock: Mutex<TimeLag>,
    /// The partitions whose lag is on the metrics page.
    reported: Mutex<BTreeSet<(String, i32)>>,
}

impl LoopContext {
    pub(super) fn new(name: String, cooperative: bool, metrics: LoopMetrics) -> Self {
        Self {
            name,
            cooperative,
            changes: Mutex::new(Vec::new()),
            metrics,
            clock: Mutex::default(),
            reported: Mutex::default(),
        }
    }

    /// `batch` was polled: the lag in time starts from its timestamps.
    pub(super) fn consumed(&self, batch: &[OwnedRecord]) {
        self.clock
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .handled_all(batch);
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

    /// Each assigned partition's lag: from the consumer's position (past
    /// every record polled, and past transaction markers) to the last stable
    /// offset (what a `read_committed` consumer can read); before the first
    /// fetch, from the committed offset.
    fn stats(&self, statistics: Statistics) {
        let now = now_ms();
        let mut clock = self.clock.lock().unwrap_or_else(PoisonError::into_inner);
        let mut measured = BTreeSet::new();
        for (topic, stats) in &statistics.topics {
            for partition in stats.partitions.values() {
                // -1 is librdkafka's internal "unassigned" partition.
                if partition.partition < 0 || !partition.desired {
                    continue;
                }
                let end = if partition.ls_offset >= 0 {
                    partition.ls_offset
                } else {
                    partition.hi_offset
                };
                let at = if partition.app_offset >= 0 {
                    partition.app_offset
                } else {
                    partition.committed_offset
                };
                if end < 0 || at < 0 {
                    continue;
                }
                let lag = (end - at).max(0);
                let waited = clock.measure(topic, partition.partition, lag, now);
                self.metrics.lag(topic, partition.partition, lag, waited);
                measured.insert((topic.clone(), partition.partition));
            }
        }
        clock.retain(|topic, partition| measured.contains(&(topic.to_owned(), partition)));
        let mut reported = self.reported.lock().unwrap_or_else(PoisonError::into_inner);
        for (topic, partition) in reported.difference(&measured) {
            self.metrics.forget_lag(topic, *partition);
        }
        *reported = measured;
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
