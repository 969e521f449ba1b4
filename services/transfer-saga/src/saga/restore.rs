//! Rebuilding a partition's transfers from the compacted `transfer-state`.

use std::time::Duration;

use eventbank_events::{TransferSagaSnapshot, wire};
use eventbank_runtime::kafka::transactional::ProcessorError;
use eventbank_runtime::kafka::{KafkaSettings, read_partition};

/// Every snapshot in `partition`, oldest first (later ones supersede earlier
/// ones of the same transfer). A snapshot this build cannot decode stops the
/// saga: it is its own state, and running without it could issue a leg twice.
pub fn restore_partition(
    settings: &KafkaSettings,
    state_topic: &str,
    partition: i32,
    limit: Duration,
) -> Result<Vec<TransferSagaSnapshot>, ProcessorError> {
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
