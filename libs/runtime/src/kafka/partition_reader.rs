//! Reading one partition to its true end (no transaction left open), for
//! restoring state from a compacted topic.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use super::record::OwnedRecord;
use super::{GroupContext, KafkaSettings};

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("kafka: {0}")]
    Kafka(#[from] KafkaError),
    #[error(
        "{topic}[{partition}] still has an open transaction after {waited:?} \
         (read up to offset {position}, log ends at {high})"
    )]
    OpenTransaction {
        topic: String,
        partition: i32,
        position: i64,
        high: i64,
        waited: Duration,
    },
}

/// Reads one partition from its beginning to its end, committed records only.
///
/// "The end" is the high watermark, not the last stable offset: while another
/// producer's transaction is still open on the partition, a `read_committed`
/// reader stops short of it, and state restored from such a read could miss
/// writes that commit a moment later. So this waits until nothing is open
/// (the writer commits, aborts, or is aborted by the broker's transaction
/// timeout) — bounded by `limit`.
pub fn read_partition(
    settings: &KafkaSettings,
    topic: &str,
    partition: i32,
    limit: Duration,
) -> Result<Vec<OwnedRecord>, ReadError> {
    let mut records = Vec::new();
    visit_partition(settings, topic, partition, limit, |record| {
        records.push(record);
        Ok::<(), ReadError>(())
    })?;
    Ok(records)
}

/// [`read_partition`], handing each record to `visit` as it is read instead
/// of holding the whole partition (every version of every key) in memory.
/// The first error `visit` returns stops the read.
pub fn visit_partition<E: From<ReadError>>(
    settings: &KafkaSettings,
    topic: &str,
    partition: i32,
    limit: Duration,
    mut visit: impl FnMut(OwnedRecord) -> Result<(), E>,
) -> Result<(), E> {
    let read = |err: KafkaError| E::from(ReadError::from(err));
    // Still short of `high` once `limit` has passed: a transaction is open.
    let open_transaction = |position, high| {
        E::from(ReadError::OpenTransaction {
            topic: topic.to_owned(),
            partition,
            position,
            high,
            waited: limit,
        })
    };
    let mut config = settings.consumer_config("eventbank-partition-reader");
    config.set("enable.partition.eof", "true");
    // GroupContext: the EOF events this reader asks for are not errors.
    let consumer: BaseConsumer<GroupContext> = config
        .create_with_context(GroupContext::for_config(&config))
        .map_err(read)?;
    // ListOffsets answers with the last stable offset to a read_committed
    // client; the true end of the log needs a read_uncommitted one.
    let mut probe_config = settings.consumer_config("eventbank-partition-reader");
    probe_config.set("isolation.level", "read_uncommitted");
    let probe: BaseConsumer<GroupContext> = probe_config
        .create_with_context(GroupContext::for_config(&probe_config))
        .map_err(read)?;
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset(topic, partition, Offset::Beginning)
        .map_err(read)?;
    consumer.assign(&assignment).map_err(read)?;

    let started = Instant::now();
    let mut position = 0_i64;
    loop {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(message)) => {
                position = message.offset() + 1;
                visit(OwnedRecord::from_message(&message))?;
                continue;
            }
            Some(Err(KafkaError::PartitionEOF(_))) => {
                let (_, high) = probe
                    .fetch_watermarks(topic, partition, Duration::from_secs(5))
                    .map_err(read)?;
                // Transaction markers occupy offsets but are never delivered, so
                // the consumer's own position (not the last record) is compared.
                let fetched = consumer
                    .position()
                    .map_err(read)?
                    .find_partition(topic, partition)
                    .and_then(|elem| elem.offset().to_raw())
                    .unwrap_or(position);
                position = position.max(fetched);
                if position >= high {
                    return Ok(());
                }
                if started.elapsed() > limit {
                    return Err(open_transaction(position, high));
                }
            }
            Some(Err(err)) => return Err(read(err)),
            None => {}
        }
        if started.elapsed() > limit {
            let (_, high) = probe
                .fetch_watermarks(topic, partition, Duration::from_secs(5))
                .map_err(read)?;
            if position >= high {
                return Ok(());
            }
            return Err(open_transaction(position, high));
        }
    }
}
