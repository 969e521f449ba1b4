//! Collecting a batch from a stream consumer, for the consumers that are not
//! Kafka-transactional (their sink commits elsewhere: Redis, PostgreSQL).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rdkafka::consumer::{ConsumerContext, StreamConsumer};
use rdkafka::error::KafkaError;
use tokio_util::sync::CancellationToken;

use super::OwnedRecord;

/// How a batch is gathered.
#[derive(Debug, Clone, Copy)]
pub struct BatchLimits {
    /// Records per batch at most.
    pub max: usize,
    /// How long to wait for each further record once the first is in.
    pub wait: Duration,
}

/// Waits for the next record, then gathers more while they keep coming
/// within `limits.wait`, up to `limits.max`. `None` once `shutdown` is
/// cancelled while waiting. The batch may be empty (a consumer error took the
/// first place). `idle` is true while waiting for a first record: a lag probe
/// can then trust the consumer's position to be all that was handled.
pub async fn next_batch<C: ConsumerContext + 'static>(
    consumer: &StreamConsumer<C>,
    limits: BatchLimits,
    idle: &AtomicBool,
    shutdown: &CancellationToken,
) -> Option<Vec<OwnedRecord>> {
    idle.store(true, Ordering::SeqCst);
    let first = tokio::select! {
        () = shutdown.cancelled() => return None,
        message = consumer.recv() => message,
    };
    idle.store(false, Ordering::SeqCst);
    let mut batch = Vec::new();
    push_message(&mut batch, first);
    while batch.len() < limits.max {
        match tokio::time::timeout(limits.wait, consumer.recv()).await {
            Ok(message) => push_message(&mut batch, message),
            Err(_) => break,
        }
    }
    Some(batch)
}

fn push_message(
    batch: &mut Vec<OwnedRecord>,
    message: Result<rdkafka::message::BorrowedMessage<'_>, KafkaError>,
) {
    match message {
        Ok(message) => batch.push(OwnedRecord::from_message(&message)),
        Err(KafkaError::PartitionEOF(_)) => {}
        Err(err) => tracing::warn!(error = %err, "consumer error"),
    }
}
