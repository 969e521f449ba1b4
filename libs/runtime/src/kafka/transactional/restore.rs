//! Reading a processor's own state back from its compacted state topic.

use std::time::Duration;

use eventbank_events::WireRecord;
use eventbank_events::wire;

use super::processor::ProcessorError;
use crate::kafka::{KafkaSettings, read_partition};

/// Every snapshot in `partition` of `state_topic`, oldest first (a later one
/// supersedes an earlier one of the same key; tombstones are skipped), read
/// to the true end of the partition.
///
/// A snapshot this build cannot decode is an error that stops the processor:
/// it is its own state, and carrying on without it could decide a command or
/// issue a leg against the wrong state.
pub fn restore_snapshots<T: WireRecord>(
    settings: &KafkaSettings,
    state_topic: &str,
    partition: i32,
    limit: Duration,
) -> Result<Vec<T>, ProcessorError> {
    let records = read_partition(settings, state_topic, partition, limit).map_err(|err| {
        ProcessorError::new(format!("restoring {state_topic}[{partition}]: {err}"))
    })?;
    records
        .into_iter()
        .filter_map(|record| record.payload.map(|payload| (record.offset, payload)))
        .map(|(offset, payload)| {
            wire::decode(&payload).map_err(|err| {
                ProcessorError::new(format!(
                    "undecodable snapshot at {state_topic}[{partition}]@{offset}: {err}"
                ))
            })
        })
        .collect()
}
