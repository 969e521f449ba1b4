//! The cluster-dependent choices for creating topics ([`TopicLayout`]): partitions,
//! replication and retentions, validated before Kafka would refuse them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A topic to create. Field types match what Kafka admin APIs take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: i32,
    pub replication_factor: i16,
    /// Topic-level configs, e.g. `cleanup.policy`.
    pub configs: BTreeMap<String, String>,
}

/// Cluster-dependent choices for creating topics. Deserializable, so it can
/// sit in a service's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TopicLayout {
    /// Partitions of every topic.
    pub partitions: i32,
    /// Replicas of every topic; 3 in production, 1 on a single dev broker.
    pub replication_factor: i16,
    /// `min.insync.replicas` for every topic (with `acks=all`, the replicas a
    /// write needs); `None` leaves the broker default. Production: RF − 1.
    pub min_insync_replicas: Option<u16>,
    /// How long commands are kept. Only needed until processed; the retention
    /// covers a processor being down over a long weekend.
    pub command_retention_ms: u64,
    /// How long command results are kept: long enough for a client that got a
    /// 202 to come back for the outcome.
    pub command_results_retention_ms: u64,
    /// How long dead letters are kept: long enough for an operator to notice,
    /// fix and replay.
    pub dlq_retention_ms: u64,
    /// `min.compaction.lag.ms` of the state topics: recent snapshots stay
    /// uncompacted for a while, so an operator can see an account's recent
    /// state changes, not only the latest.
    pub state_min_compaction_lag_ms: u64,
    /// `segment.ms` of the state topics. Compaction never touches the active
    /// segment, so with Kafka's default (7 days) a restore would replay up to
    /// a week of superseded snapshots.
    pub state_segment_ms: u64,
}

const HOUR_MS: u64 = 60 * 60 * 1000;
const DAY_MS: u64 = 24 * HOUR_MS;

impl Default for TopicLayout {
    /// Sized for a single development broker (replication factor 1);
    /// production overrides `replication_factor` and `min_insync_replicas`.
    fn default() -> Self {
        Self {
            partitions: 6,
            replication_factor: 1,
            min_insync_replicas: None,
            command_retention_ms: 7 * DAY_MS,
            command_results_retention_ms: 6 * HOUR_MS,
            dlq_retention_ms: 14 * DAY_MS,
            state_min_compaction_lag_ms: HOUR_MS,
            state_segment_ms: 6 * HOUR_MS,
        }
    }
}

/// A [`TopicLayout`] that Kafka would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid topic layout: `{field}` {problem}")]
pub struct TopicLayoutError {
    pub field: &'static str,
    pub problem: &'static str,
}

impl TopicLayout {
    /// Checks the layout is one Kafka would accept.
    pub fn validate(&self) -> Result<(), TopicLayoutError> {
        let fail = |field, problem| Err(TopicLayoutError { field, problem });
        if self.partitions < 1 {
            return fail("partitions", "must be at least 1");
        }
        if self.replication_factor < 1 {
            return fail("replication_factor", "must be at least 1");
        }
        if let Some(min_isr) = self.min_insync_replicas {
            if min_isr < 1 {
                return fail("min_insync_replicas", "must be at least 1");
            }
            if i32::from(min_isr) > i32::from(self.replication_factor) {
                return fail("min_insync_replicas", "cannot exceed replication_factor");
            }
        }
        for (field, value) in [
            ("command_retention_ms", self.command_retention_ms),
            (
                "command_results_retention_ms",
                self.command_results_retention_ms,
            ),
            ("dlq_retention_ms", self.dlq_retention_ms),
            ("state_segment_ms", self.state_segment_ms),
        ] {
            if value == 0 {
                return fail(field, "must be positive");
            }
        }
        for (field, value) in [
            ("command_retention_ms", self.command_retention_ms),
            (
                "command_results_retention_ms",
                self.command_results_retention_ms,
            ),
            ("dlq_retention_ms", self.dlq_retention_ms),
            (
                "state_min_compaction_lag_ms",
                self.state_min_compaction_lag_ms,
            ),
            ("state_segment_ms", self.state_segment_ms),
        ] {
            if i64::try_from(value).is_err() {
                return fail(field, "must fit in a signed 64-bit integer");
            }
        }
        Ok(())
    }
}
