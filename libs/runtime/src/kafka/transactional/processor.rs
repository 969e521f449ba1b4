//! What the transactional loop asks of a service ([`Processor`]): handle a
//! record, stage state until told commit or abort, restore on assignment.

use super::super::{KafkaSettings, OutputRecord, OwnedRecord};

/// One partition of one input topic.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: i32,
}

/// What a transactional processor does with its input. All methods run on the
/// loop's thread, one at a time.
pub trait Processor: Send + 'static {
    /// Partitions of the input just assigned to this instance: load whatever
    /// state they need (typically with [`crate::kafka::read_partition`] on a
    /// co-partitioned compacted topic) before any of their records is handled.
    fn assigned(
        &mut self,
        settings: &KafkaSettings,
        partitions: &[TopicPartition],
    ) -> Result<(), ProcessorError>;

    /// Partitions taken away: forget their state; another instance owns it now.
    fn revoked(&mut self, partitions: &[TopicPartition]);

    /// Decide one record, pushing what it produces onto `out`. State changes
    /// are staged, not applied, until [`Processor::commit`].
    ///
    /// Return [`HandleError::DeadLetter`] for a record that can never be
    /// processed (the loop sends it to the dead-letter topic and moves on);
    /// anything staged for that record must be left out.
    fn handle(
        &mut self,
        record: &OwnedRecord,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(), HandleError>;

    /// Work due by the clock rather than by a record (a deadline, a retry),
    /// called every [`LoopConfig::tick_interval`](super::LoopConfig) between
    /// batches, never inside one. Outputs and staged changes follow the same
    /// rules as [`Processor::handle`]'s: they go out in a transaction of their
    /// own, followed by [`Processor::commit`] or [`Processor::abort`].
    fn tick(&mut self, out: &mut Vec<OutputRecord>) -> Result<(), ProcessorError> {
        let _ = out;
        Ok(())
    }

    /// Every record of the batch has been handled (or, for a tick, the tick
    /// has run and produced something: a tick with no output opens no
    /// transaction, and this is not called): push what belongs to the
    /// transaction as a whole — e.g. one snapshot per changed key instead of
    /// one per record. It goes out in the same transaction, before the
    /// offsets.
    fn finish_batch(&mut self, out: &mut Vec<OutputRecord>) -> Result<(), ProcessorError> {
        let _ = out;
        Ok(())
    }

    /// The transaction holding everything handled since the last commit or
    /// abort is committed: make the staged changes the current state.
    fn commit(&mut self);

    /// The transaction was aborted: throw the staged changes away. The loop
    /// re-delivers the same records next.
    fn abort(&mut self);
}

#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// The record is poison: it can never be processed. Dead-letter it; the
    /// error and its causes, on one line, are the dead letter's reason.
    #[error("{0}")]
    DeadLetter(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// Something outside the record is wrong; stop the loop without committing.
    #[error(transparent)]
    Fatal(#[from] ProcessorError),
}

impl HandleError {
    /// Dead-letter the record because of `cause` (a decode error, or a
    /// sentence saying what is wrong with it).
    pub fn dead_letter(
        cause: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self::DeadLetter(cause.into())
    }
}

/// An error that stops the loop: the open transaction is aborted and the
/// service fails (a restart resumes from the last committed offsets). Its
/// cause, if any, stays reachable through `source()` (logs print the chain:
/// [`crate::error_chain::Chain`]).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ProcessorError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl ProcessorError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// `message` says what was being done; `source` why it failed.
    pub fn caused_by(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(source.into()),
        }
    }
}
