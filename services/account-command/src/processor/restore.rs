//! Rebuilding a partition's accounts from the compacted `account-state` topic.

use std::collections::HashMap;
use std::time::Duration;

use eventbank_events::{AccountId, AccountSnapshot};
use eventbank_runtime::kafka::KafkaSettings;
use eventbank_runtime::kafka::transactional::{ProcessorError, restore_snapshots};

use super::accounts::Entry;

/// The latest snapshot of every account in `partition`.
pub fn restore_partition(
    settings: &KafkaSettings,
    state_topic: &str,
    partition: i32,
    limit: Duration,
) -> Result<HashMap<AccountId, Entry>, ProcessorError> {
    let snapshots: Vec<AccountSnapshot> =
        restore_snapshots(settings, state_topic, partition, limit)?;
    Ok(snapshots
        .iter()
        .map(|snapshot| (snapshot.account_id, Entry::from_snapshot(snapshot)))
        .collect())
}
