//! How a batch's transaction failed ([`BatchError`]): the kind decides
//! whether the loop aborts and re-reads, replaces its producer, reloads
//! every partition, dead-letters one record, or stops.

use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use super::LoopError;

/// How a batch failed decides what happens next.
pub(super) enum BatchError {
    /// Abort, roll back, re-read the batch.
    Abortable(KafkaError),
    /// The producer is unusable (fenced, or a fatal idempotence error) before
    /// any commit was asked for: roll back, re-read, and build a new producer.
    FatalProducer(KafkaError),
    /// A commit was asked for and its outcome is not known (the producer
    /// failed or gave an unexpected answer while committing). It must never
    /// be treated as aborted: if the broker had it, re-deciding the batch
    /// would append its events twice. A new producer settles it (its
    /// `init_transactions` waits for the coordinator to finish the old
    /// transaction), then every owned partition is reloaded from its state
    /// topic and the consumer resumes from the group's committed offsets.
    Undecided(KafkaError),
    /// One input record's outputs were refused for good: abort, re-read, and
    /// dead-letter that record instead of handling it.
    Poisoned {
        record: (String, i32, i64),
        reason: String,
    },
    /// The processor or configuration is broken: abort and stop.
    Stop(LoopError),
}

/// Errors for which Kafka will refuse the same record however often it is
/// sent: the record's own failure, not the transaction's.
pub(super) fn refused_for_good(err: &KafkaError) -> bool {
    matches!(
        err,
        KafkaError::MessageProduction(
            RDKafkaErrorCode::MessageSizeTooLarge
                | RDKafkaErrorCode::InvalidMessageSize
                | RDKafkaErrorCode::InvalidRecord
        )
    )
}

impl From<KafkaError> for BatchError {
    fn from(err: KafkaError) -> Self {
        match &err {
            KafkaError::Transaction(txn) if txn.is_fatal() => Self::FatalProducer(err),
            _ => Self::Abortable(err),
        }
    }
}
