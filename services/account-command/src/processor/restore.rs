//! Rebuilding a partition's accounts from the compacted `account-state` topic.

use std::collections::HashMap;
use std::time::Duration;

use eventbank_events::{AccountId, AccountSnapshot, wire};
use eventbank_runtime::kafka::transactional::ProcessorError;
use eventbank_runtime::kafka::{KafkaSettings, read_partition};

use super::accounts::Entry;

/// The latest snapshot of every account in `partition`. A snapshot this build
/// cannot decode stops the processor: it is our own state, and deciding
/// commands without it would corrupt the account.
pub fn restore_partition(
    settings: &KafkaSettings,
    state_topic: &str,
    partition: i32,
    limit: Duration,
) -> Result<HashMap<AccountId, Entry>, ProcessorError> {
    let records = read_partition(settings, state_topic, partition, limit).map_err(|err| {
        ProcessorError::new(format!("restoring {state_topic}[{partition}]: {err}"))
    })?;
    let mut accounts = HashMap::new();
    for record in records {
        let Some(payload) = record.payload else {
            continue;
        };
        let snapshot: AccountSnapshot = wire::decode(&payload).map_err(|err| {
            ProcessorError::new(format!(
                "undecodable snapshot at {state_topic}[{partition}]@{}: {err}",
                record.offset
            ))
        })?;
        accounts.insert(snapshot.account_id, Entry::from_snapshot(&snapshot));
    }
    Ok(accounts)
}
