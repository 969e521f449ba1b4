//! Collecting a batch from a stream consumer, for the consumers that are not
//! Kafka-transactional (their sink commits elsewhere: Redis, PostgreSQL).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rdkafka::consumer::{ConsumerContext, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
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
///
/// # Errors
///
/// A fatal consumer error ([`is_fatal_consumer_error`]): the consumer is
/// unusable, and the caller must stop (not ready, non-zero exit) so the
/// orchestrator restarts it, instead of spinning while it looks ready.
pub async fn next_batch<C: ConsumerContext + 'static>(
    consumer: &StreamConsumer<C>,
    limits: BatchLimits,
    idle: &AtomicBool,
    shutdown: &CancellationToken,
) -> Result<Option<Vec<OwnedRecord>>, KafkaError> {
    idle.store(true, Ordering::SeqCst);
    let first = tokio::select! {
        () = shutdown.cancelled() => return Ok(None),
        message = consumer.recv() => message,
    };
    idle.store(false, Ordering::SeqCst);
    let mut batch = Vec::new();
    push_message(&mut batch, first)?;
    while batch.len() < limits.max {
        match tokio::time::timeout(limits.wait, consumer.recv()).await {
            Ok(message) => push_message(&mut batch, message)?,
            Err(_) => break,
        }
    }
    Ok(Some(batch))
}

/// Runs `work` (the sink applying a batch) while handing the records the
/// consumer already holds to `take`, at most `max` of them, so the next
/// batch is received (and, by `take`, decoded) while the sink works on this
/// one. It never waits for a record of its own accord: it returns as soon as
/// `work` is done, and the caller applies what `take` kept before it asks
/// [`next_batch`] for more (which keeps `idle` truthful: it is only set
/// while nothing received is unapplied).
///
/// A fatal consumer error ([`is_fatal_consumer_error`]) stops the receiving
/// and is returned beside the work's output; the caller finishes the batch
/// in hand first, then stops.
pub async fn receive_while<C, T>(
    consumer: &StreamConsumer<C>,
    work: impl Future<Output = T>,
    max: usize,
    mut take: impl FnMut(OwnedRecord),
) -> (T, Result<(), KafkaError>)
where
    C: ConsumerContext + 'static,
{
    tokio::pin!(work);
    let mut received = Ok(());
    let mut taken = 0;
    let mut records = Vec::with_capacity(1);
    loop {
        tokio::select! {
            biased;
            output = &mut work => return (output, received),
            message = consumer.recv(), if received.is_ok() && taken < max => {
                received = push_message(&mut records, message);
                for record in records.drain(..) {
                    taken += 1;
                    take(record);
                }
            }
        }
    }
}

fn push_message(
    batch: &mut Vec<OwnedRecord>,
    message: Result<rdkafka::message::BorrowedMessage<'_>, KafkaError>,
) -> Result<(), KafkaError> {
    match message {
        Ok(message) => batch.push(OwnedRecord::from_message(&message)),
        Err(KafkaError::PartitionEOF(_)) => {}
        Err(err) if is_fatal_consumer_error(&err) => return Err(err),
        Err(err) => tracing::warn!(error = %err, "consumer error"),
    }
    Ok(())
}

/// Whether a consumer error leaves the consumer unusable for good (for
/// example a static member fenced out of its group by another instance with
/// its name): everything else is transient and retried by librdkafka.
pub fn is_fatal_consumer_error(err: &KafkaError) -> bool {
    match err {
        KafkaError::MessageConsumptionFatal(_) => true,
        KafkaError::Transaction(inner) => inner.is_fatal(),
        KafkaError::MessageConsumption(code) => {
            matches!(
                code,
                RDKafkaErrorCode::Fatal | RDKafkaErrorCode::FencedInstanceId
            )
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fenced_and_fatal_errors_are_fatal_transient_ones_are_not() {
        assert!(is_fatal_consumer_error(
            &KafkaError::MessageConsumptionFatal(RDKafkaErrorCode::FencedInstanceId)
        ));
        assert!(is_fatal_consumer_error(&KafkaError::MessageConsumption(
            RDKafkaErrorCode::FencedInstanceId
        )));
        assert!(!is_fatal_consumer_error(&KafkaError::MessageConsumption(
            RDKafkaErrorCode::BrokerTransportFailure
        )));
        assert!(!is_fatal_consumer_error(&KafkaError::MessageConsumption(
            RDKafkaErrorCode::AllBrokersDown
        )));
    }
}
