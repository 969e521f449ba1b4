//! After a transaction failed: abort it or replace the producer, then roll
//! the batch back (re-read it) or reload every owned partition, or stop.

use std::collections::BTreeMap;

use rdkafka::consumer::Consumer;
use rdkafka::producer::Producer;
use rdkafka::{Offset, TopicPartitionList};

use super::batch_error::BatchError;
use super::{LoopError, TransactionalLoop};
use crate::error_chain::Chain;
use crate::kafka::OwnedRecord;
use crate::kafka::transactional::processor::{Processor, TopicPartition};

impl<P: Processor> TransactionalLoop<P> {
    /// After a failed transaction covering `batch`: abort it (or replace the
    /// producer) and roll back, or stop.
    pub(super) fn recover(
        &mut self,
        err: BatchError,
        batch: &[OwnedRecord],
    ) -> Result<(), LoopError> {
        match err {
            BatchError::Abortable(err) => {
                tracing::warn!(name = %self.config.name, error = %Chain(&err), "aborting transaction; the batch will be re-read");
                self.abort_transaction()?;
                self.failed(&err);
                self.roll_back(batch)
            }
            BatchError::Poisoned { record, reason } => {
                tracing::warn!(name = %self.config.name, ?record, %reason, "an output was refused for good; the record will be dead-lettered");
                self.abort_transaction()?;
                self.poisoned.insert(record, reason);
                self.roll_back(batch)
            }
            BatchError::FatalProducer(err) => {
                tracing::warn!(name = %self.config.name, error = %Chain(&err), "producer unusable (fenced?); recreating it");
                self.producers
                    .replace_current(&self.settings, &self.watchdog)?;
                self.failed(&err);
                self.roll_back(batch)
            }
            BatchError::Undecided(err) => {
                tracing::warn!(name = %self.config.name, error = %Chain(&err), "the commit's outcome is unknown; settling it with a new producer and reloading every owned partition");
                self.metrics.undecided();
                self.producers
                    .replace_current(&self.settings, &self.watchdog)?;
                self.failed(&err);
                self.reload()
            }
            BatchError::Stop(err) => {
                // Best effort: the broker aborts it anyway when this
                // transactional id is next initialised or times out.
                let _ = self.watchdog.call("abort_transaction", || {
                    self.producers
                        .current()
                        .abort_transaction(self.config.call_timeout)
                });
                self.processor.abort();
                Err(err)
            }
        }
    }

    /// Aborts the open transaction; a producer that cannot even abort is
    /// replaced (its successor's `init_transactions` aborts it).
    pub(super) fn abort_transaction(&mut self) -> Result<(), LoopError> {
        let aborted = self.watchdog.call("abort_transaction", || {
            self.producers
                .current()
                .abort_transaction(self.config.call_timeout)
        });
        if let Err(abort_err) = aborted {
            tracing::warn!(error = %abort_err, "abort failed; recreating the producer");
            self.producers
                .replace_current(&self.settings, &self.watchdog)?;
        }
        Ok(())
    }

    /// After a transaction whose outcome was unknown and has since been
    /// settled: nothing in memory can be trusted, so every owned partition's
    /// state is restored from its state topic (which holds exactly what
    /// committed) and the consumer resumes at the group's committed offsets
    /// (the earliest offset where none was ever committed).
    pub(super) fn reload(&mut self) -> Result<(), LoopError> {
        self.processor.abort();
        self.metrics.aborted();
        let owned: Vec<TopicPartition> = self.owned.iter().cloned().collect();
        if owned.is_empty() {
            return Ok(());
        }
        self.processor.revoked(&owned);
        self.processor.assigned(&self.settings, &owned)?;
        let mut wanted = TopicPartitionList::new();
        for tp in &owned {
            wanted.add_partition(&tp.topic, tp.partition);
        }
        let committed = self
            .consumer
            .committed_offsets(wanted, self.config.call_timeout)?;
        for elem in committed.elements() {
            let offset = match elem.offset() {
                Offset::Offset(offset) if offset >= 0 => Offset::Offset(offset),
                _ => Offset::Beginning,
            };
            self.consumer.seek(
                elem.topic(),
                elem.partition(),
                offset,
                self.config.call_timeout,
            )?;
        }
        tracing::info!(name = %self.config.name, partitions = owned.len(), "reloaded every owned partition after an undecided commit");
        Ok(())
    }

    /// After an abort: drop staged state and re-read the batch from its first
    /// record in each partition, against state as it was before the batch.
    pub(super) fn roll_back(&mut self, batch: &[OwnedRecord]) -> Result<(), LoopError> {
        self.processor.abort();
        self.metrics.aborted();
        let mut first: BTreeMap<(&str, i32), i64> = BTreeMap::new();
        for record in batch {
            first
                .entry((record.topic.as_str(), record.partition))
                .or_insert(record.offset);
        }
        for ((topic, partition), offset) in first {
            self.consumer.seek(
                topic,
                partition,
                Offset::Offset(offset),
                self.config.call_timeout,
            )?;
        }
        Ok(())
    }
}
