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
