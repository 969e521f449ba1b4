//! Reading a processor's own state back from its compacted state topic.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use eventbank_events::WireRecord;
use eventbank_events::wire;

use super::processor::{ProcessorError, TopicPartition};
use crate::kafka::{KafkaSettings, ReadError, visit_partition};

impl From<ReadError> for ProcessorError {
    fn from(err: ReadError) -> Self {
        Self::caused_by("reading the partition failed", err)
    }
}

/// The live record of every key in `partition` of `state_topic`, in the
/// order of their latest offsets, read to the true end of the partition.
///
/// A compacted topic keeps superseded versions and tombstones until the
/// cleaner runs, so this applies them as Kafka's semantics say: a later
/// record of a key replaces an earlier one, and a tombstone (no value)
/// deletes the key. Each record is decoded as it is read; only the live
/// ones are held.
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
    let mut latest_offset: HashMap<Vec<u8>, i64> = HashMap::new();
    let mut live: BTreeMap<i64, T> = BTreeMap::new();
    visit_partition(settings, state_topic, partition, limit, |record| {
        let key = record.key.unwrap_or_default();
        if let Some(previous) = latest_offset.remove(&key) {
            live.remove(&previous);
        }
        let Some(payload) = record.payload else {
            return Ok(());
        };
        let decoded: T = wire::decode(&payload).map_err(|err| {
            ProcessorError::caused_by(
                format!(
                    "undecodable snapshot at {state_topic}[{partition}]@{}",
                    record.offset
                ),
                err,
            )
        })?;
        latest_offset.insert(key, record.offset);
        live.insert(record.offset, decoded);
        Ok(())
    })
    .map_err(|err: ProcessorError| {
        ProcessorError::caused_by(format!("restoring {state_topic}[{partition}]"), err)
    })?;
    Ok(live.into_values().collect())
}

/// [`restore_snapshots`] for the partitions of `state_topic` co-partitioned
/// with `assigned` (input partitions, as [`super::Processor::assigned`] gets them),
/// each read on a thread of its own: a read costs about a second and a half
/// of client start-up and round trips however small the partition, so an
/// instance taking over several partitions (a rebalance, a restart) would
/// otherwise wait for the sum. The first error is returned.
pub fn restore_partitions<T: WireRecord + Send>(
    settings: &KafkaSettings,
    state_topic: &str,
    assigned: &[TopicPartition],
    limit: Duration,
) -> Result<Vec<(i32, Vec<T>)>, ProcessorError> {
    std::thread::scope(|scope| {
        let reads: Vec<_> = assigned
            .iter()
            .map(|&TopicPartition { partition, .. }| {
                scope.spawn(move || {
                    restore_snapshots(settings, state_topic, partition, limit)
                        .map(|live| (partition, live))
                })
            })
            .collect();
        reads
            .into_iter()
            .map(|read| {
                read.join()
                    .unwrap_or_else(|_| Err(ProcessorError::new("a restore thread panicked")))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;
    use crate::error_chain::Chain;

    #[test]
    fn a_failed_read_stays_the_cause_of_the_processor_error() {
        let read = ReadError::OpenTransaction {
            topic: "state".to_owned(),
            partition: 3,
            position: 10,
            high: 12,
            waited: Duration::from_secs(5),
        };
        let err = ProcessorError::caused_by("restoring state[3]", ProcessorError::from(read));
        let cause = err
            .source()
            .and_then(|e| e.source())
            .and_then(|e| e.downcast_ref::<ReadError>());
        assert!(
            matches!(cause, Some(ReadError::OpenTransaction { partition: 3, .. })),
            "the read error is reachable: {err:?}"
        );
        let line = Chain(&err).to_string();
        assert!(
            line.starts_with("restoring state[3]: reading the partition failed: state[3] still has an open transaction"),
            "{line}"
        );
    }
}
