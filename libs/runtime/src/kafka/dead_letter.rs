//! Dead-lettering a consumed record: its original key, value and headers go
//! untouched to `<topic>.dlq`, with [`DeadLetter`] headers saying why.
//!
//! Every consumer that can meet a record it cannot decode does exactly this
//! (invariant 6 of DESIGN.md), so it is built in one place
//! ([`dead_letter_record`]): the transactional loop sends it inside its
//! transaction, a sink consumer through [`DeadLetterer`], waiting for the
//! broker before it moves on.

use std::time::Duration;

use eventbank_events::DeadLetter;
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord};

use super::{OutputRecord, OwnedRecord, headers_of};

/// How long a dead letter may wait in the producer's queue.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(5);

/// The dead-letter topic of `source` (DESIGN.md: `<topic>.dlq`; a topic
/// prefix is already part of `source`).
pub fn dead_letter_topic(source: &str) -> String {
    format!("{source}{}", eventbank_events::topics::DLQ_SUFFIX)
}

/// The metadata of `record`'s dead letter, failing now, given up on by
/// `consumer` (service and group: several consumers read the same topics).
pub fn letter_for(record: &OwnedRecord, consumer: &str, reason: String) -> DeadLetter {
    DeadLetter {
        source_topic: record.topic.clone(),
        partition: record.partition,
        offset: record.offset,
        consumer: consumer.to_owned(),
        reason,
        failed_at: chrono::Utc::now(),
    }
}

/// The record that dead-letters `record`: the original key, value and
/// headers unchanged (a dead letter can be replayed byte for byte once the
/// cause is fixed), the [`DeadLetter`] headers after them. A record without
/// a key gets an empty one, which is produced as no key.
pub fn dead_letter_record(record: &OwnedRecord, consumer: &str, reason: String) -> OutputRecord {
    let mut headers = record.headers.clone();
    headers.extend(
        letter_for(record, consumer, reason)
            .headers()
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value.into_bytes())),
    );
    OutputRecord {
        topic: dead_letter_topic(&record.topic),
        partition: None,
        key: record.key.clone().unwrap_or_default(),
        payload: record.payload.clone(),
        headers,
    }
}

/// A dead letter that did not reach the broker; the batch is retried.
#[derive(Debug, thiserror::Error)]
#[error("dead-lettering to {topic} failed")]
pub struct DeadLetterError {
    pub topic: String,
    #[source]
    pub source: KafkaError,
}

/// Sends the records a sink consumer gives up on to their dead-letter
/// topics, as `consumer`, waiting until the broker has each: the caller
/// advances its offsets only afterwards, so a dead letter is never lost.
#[derive(Clone)]
pub struct DeadLetterer {
    producer: FutureProducer,
    consumer: String,
}

crate::debug_fields!(DeadLetterer { consumer });

impl DeadLetterer {
    pub fn new(producer: FutureProducer, consumer: impl Into<String>) -> Self {
        Self {
            producer,
            consumer: consumer.into(),
        }
    }

    /// Dead-letters `record` because of `reason`; returns the topic it went to.
    pub async fn send(
        &self,
        record: &OwnedRecord,
        reason: &str,
    ) -> Result<String, DeadLetterError> {
        let output = dead_letter_record(record, &self.consumer, reason.to_owned());
        let mut out: FutureRecord<'_, [u8], [u8]> =
            FutureRecord::to(&output.topic).headers(headers_of(&output.headers));
        if !output.key.is_empty() {
            out = out.key(output.key.as_slice());
        }
        if let Some(payload) = &output.payload {
            out = out.payload(payload.as_slice());
        }
        self.producer
            .send(out, QUEUE_TIMEOUT)
            .await
            .map_err(|(source, _)| DeadLetterError {
                topic: output.topic.clone(),
                source,
            })?;
        tracing::warn!(
            source = %record.topic, partition = record.partition, offset = record.offset,
            dead_letter_topic = %output.topic, %reason, "record dead-lettered"
        );
        Ok(output.topic)
    }
}
