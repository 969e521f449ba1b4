//! Dead-lettering a consumed record: its original key, value and headers go
//! untouched to `<topic>.dlq`, with [`DeadLetter`] headers saying why.
//!
//! Every consumer that can meet a record it cannot decode does exactly this
//! (invariant 6 of DESIGN.md), so it lives here once.

use std::time::Duration;

use eventbank_events::DeadLetter;
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use super::OwnedRecord;

/// Copies `record` to `dlq_topic` with `letter`'s headers after the record's
/// own, and waits until the broker has it: the caller advances its offsets
/// only afterwards, so a dead letter is never lost.
pub async fn send_dead_letter(
    producer: &FutureProducer,
    dlq_topic: &str,
    record: &OwnedRecord,
    letter: &DeadLetter,
    queue_timeout: Duration,
) -> Result<(), KafkaError> {
    let mut headers = OwnedHeaders::new();
    for (key, value) in &record.headers {
        headers = headers.insert(Header {
            key,
            value: Some(value),
        });
    }
    for (key, value) in letter.headers() {
        headers = headers.insert(Header {
            key,
            value: Some(&value),
        });
    }
    let mut out: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(dlq_topic).headers(headers);
    if let Some(key) = &record.key {
        out = out.key(key.as_slice());
    }
    if let Some(payload) = &record.payload {
        out = out.payload(payload.as_slice());
    }
    producer
        .send(out, queue_timeout)
        .await
        .map(drop)
        .map_err(|(err, _)| err)
}

/// How long a dead letter may wait in the producer's queue.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(5);

/// A dead letter that did not reach the broker; the batch is retried.
#[derive(Debug, thiserror::Error)]
#[error("dead-lettering to {topic} failed")]
pub struct DeadLetterError {
    pub topic: String,
    #[source]
    pub source: KafkaError,
}

/// Sends the records a consumer gives up on to their dead-letter topics, as
/// `consumer` (service and group, see [`DeadLetter::consumer`]).
#[derive(Clone)]
pub struct DeadLetterer {
    producer: FutureProducer,
    consumer: String,
}

impl std::fmt::Debug for DeadLetterer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeadLetterer")
            .field("consumer", &self.consumer)
            .finish_non_exhaustive()
    }
}

impl DeadLetterer {
    pub fn new(producer: FutureProducer, consumer: impl Into<String>) -> Self {
        Self {
            producer,
            consumer: consumer.into(),
        }
    }

    /// Dead-letters `record` because of `reason` and waits for the broker.
    /// Returns the topic it went to.
    pub async fn send(
        &self,
        record: &OwnedRecord,
        reason: &str,
    ) -> Result<String, DeadLetterError> {
        let topic = dead_letter_topic(&record.topic);
        let letter = letter_for(record, &self.consumer, reason.to_owned());
        send_dead_letter(&self.producer, &topic, record, &letter, QUEUE_TIMEOUT)
            .await
            .map_err(|source| DeadLetterError {
                topic: topic.clone(),
                source,
            })?;
        tracing::warn!(
            source = %record.topic, partition = record.partition, offset = record.offset,
            dead_letter_topic = %topic, %reason, "record dead-lettered"
        );
        Ok(topic)
    }
}

/// The dead-letter topic of `source` (DESIGN.md: `<topic>.dlq`; a topic
/// prefix is already part of `source`).
pub fn dead_letter_topic(source: &str) -> String {
    format!("{source}{}", eventbank_events::topics::DLQ_SUFFIX)
}

/// The metadata of `record`'s dead letter, failing now.
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
