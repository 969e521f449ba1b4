//! Rebuilding a partition's accounts and command memory from the compacted
//! `account-state` and `command-memory` topics.

use std::time::Duration;

use eventbank_events::{AccountSnapshot, RememberedOutcome};
use eventbank_runtime::kafka::KafkaSettings;
use eventbank_runtime::kafka::transactional::{ProcessorError, restore_snapshots};

/// The latest snapshot of every account in `partition`.
pub fn restore_accounts(
    settings: &KafkaSettings,
    state_topic: &str,
    partition: i32,
    limit: Duration,
) -> Result<Vec<AccountSnapshot>, ProcessorError> {
    restore_snapshots(settings, state_topic, partition, limit)
}

/// Every outcome remembered (not yet tombstoned) in `partition`.
pub fn restore_memory(
    settings: &KafkaSettings,
    memory_topic: &str,
    partition: i32,
    limit: Duration,
) -> Result<Vec<RememberedOutcome>, ProcessorError> {
    restore_snapshots(settings, memory_topic, partition, limit)
}
