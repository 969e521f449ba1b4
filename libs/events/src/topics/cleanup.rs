//! How each topic gets rid of old records, and the topic configs
//! (`cleanup.policy`, retention, compaction) that say so to Kafka.

use std::collections::BTreeMap;

use super::{TopicKind, TopicLayout, TopicSpec};

/// How a topic gets rid of old records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Cleanup {
    /// Delete after the given retention (`None`: never).
    Delete(Option<u64>),
    /// Keep the latest record per key.
    Compact,
}

impl TopicKind {
    pub(super) fn cleanup(self, layout: &TopicLayout) -> Cleanup {
        match self {
            // The inbox, like the commands, is only needed until processed.
            Self::AccountCommands | Self::TransferSagaInbox => {
                Cleanup::Delete(Some(layout.command_retention_ms))
            }
            // The event topics are the system of record: never expire.
            Self::AccountEvents | Self::TransferEvents => Cleanup::Delete(None),
            Self::AccountState | Self::CommandMemory | Self::TransferState => Cleanup::Compact,
            Self::CommandResults => Cleanup::Delete(Some(layout.command_results_retention_ms)),
        }
    }
}

impl TopicLayout {
    pub(super) fn spec(&self, name: String, cleanup: Cleanup) -> TopicSpec {
        let mut configs = BTreeMap::new();
        let mut set = |key: &str, value: String| configs.insert(key.to_owned(), value);
        match cleanup {
            Cleanup::Delete(retention_ms) => {
                set("cleanup.policy", "delete".to_owned());
                match retention_ms {
                    Some(ms) => set("retention.ms", ms.to_string()),
                    None => {
                        // Both limits, or a broker-wide `log.retention.bytes`
                        // could still expire the event store.
                        set("retention.ms", "-1".to_owned());
                        set("retention.bytes", "-1".to_owned())
                    }
                };
            }
            Cleanup::Compact => {
                set("cleanup.policy", "compact".to_owned());
                set(
                    "min.compaction.lag.ms",
                    self.state_min_compaction_lag_ms.to_string(),
                );
                set("segment.ms", self.state_segment_ms.to_string());
            }
        }
        if let Some(min_isr) = self.min_insync_replicas {
            set("min.insync.replicas", min_isr.to_string());
        }
        TopicSpec {
            name,
            partitions: self.partitions,
            replication_factor: self.replication_factor,
            configs,
        }
    }
}
