//! The processor's timed work (retries, expiries) in a transaction of its
//! own, fenced like a batch's so a zombie instance cannot commit it.

use std::time::Instant;

use rdkafka::consumer::Consumer;
use rdkafka::{Offset, TopicPartitionList};

use super::batch_error::BatchError;
use super::{LoopError, TransactionalLoop};
use crate::kafka::transactional::processor::Processor;

impl<P: Processor> TransactionalLoop<P> {
    /// Runs the processor's timed work in a transaction of its own (none if
    /// it produced nothing).
    pub(super) fn tick(&mut self) -> Result<(), LoopError> {
        self.last_tick = Instant::now();
        let mut out = Vec::new();
        if let Err(err) = self.processor.tick(&mut out) {
            self.processor.abort();
            return Err(err.into());
        }
        if out.is_empty() {
            self.processor.commit();
            return Ok(());
        }
        if let Err(err) = self.processor.finish_batch(&mut out) {
            self.processor.abort();
            return Err(err.into());
        }
        let produced = (|| {
            self.producers.begin()?;
            for output in &out {
                self.send(output)?;
            }
            self.wait_for_delivery()?;
            self.fence_with_current_offsets()?;
            self.commit()
        })();
        match produced {
            Ok(()) => {
                self.processor.commit();
                self.committed();
                self.metrics.produced(out.len());
                Ok(())
            }
            // Nothing was consumed, so there is nothing to re-read: the
            // processor's state is as before, and the next tick tries again.
            Err(err) => self.recover(err, &[]),
        }
    }

    /// A tick's transaction carries no input, but it must be fenced like a
    /// batch's: sending the owned partitions' current offsets (unchanged)
    /// with the group's metadata makes the broker refuse the commit of an
    /// instance that has lost its partitions in a rebalance — a zombie can
    /// then not write a stale saga state over its successor's.
    pub(super) fn fence_with_current_offsets(&self) -> Result<(), BatchError> {
        if self.owned.is_empty() {
            return Ok(());
        }
        let positions = self.consumer.position()?;
        let mut offsets = TopicPartitionList::new();
        let mut unknown = TopicPartitionList::new();
        for tp in &self.owned {
            match positions
                .find_partition(&tp.topic, tp.partition)
                .and_then(|elem| elem.offset().to_raw())
                .filter(|offset| *offset >= 0)
            {
                Some(offset) => {
                    offsets.add_partition_offset(
                        &tp.topic,
                        tp.partition,
                        Offset::Offset(offset),
                    )?;
                }
                None => {
                    unknown.add_partition(&tp.topic, tp.partition);
                }
            }
        }
        if unknown.count() > 0 {
            // Nothing fetched there yet: the committed offset is the position.
            let committed = self
                .consumer
                .committed_offsets(unknown, self.config.call_timeout)?;
            for elem in committed.elements() {
                if let Some(offset) = elem.offset().to_raw().filter(|offset| *offset >= 0) {
                    offsets.add_partition_offset(
                        elem.topic(),
                        elem.partition(),
                        Offset::Offset(offset),
                    )?;
                }
            }
        }
        if offsets.count() == 0 {
            tracing::debug!(name = %self.config.name, "no committed offsets yet; the tick is fenced by its producer epoch only");
            return Ok(());
        }
        self.send_offsets(&offsets)
    }
}
