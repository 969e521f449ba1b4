//! Polling records into a batch, and applying the partition assignment
//! changes each `poll` reported before any record of theirs is handled.

use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer;
use tokio_util::sync::CancellationToken;

use super::{LoopError, STALLED_AFTER, TransactionalLoop};
use crate::error_chain::Chain;
use crate::kafka::transactional::context::AssignmentChange;
use crate::kafka::transactional::processor::{Processor, TopicPartition};
use crate::kafka::{OwnedRecord, is_fatal_consumer_error};

impl<P: Processor> TransactionalLoop<P> {
    /// Polls until the batch is full, or its first record has waited
    /// `max_batch_wait` and the consumer has nothing more buffered, or
    /// shutdown is requested or a tick is due with nothing in hand.
    /// Assignment changes are applied right after the `poll` that reported them.
    /// Also answers whether the consumer ran dry (its last poll found no
    /// record), which is when timed work may run.
    pub(super) fn collect_batch(
        &mut self,
        shutdown: &CancellationToken,
    ) -> Result<(Vec<OwnedRecord>, bool), LoopError> {
        let mut batch: Vec<OwnedRecord> = Vec::new();
        let mut deadline: Option<Instant> = None;
        loop {
            let mut drained = false;
            let timeout = deadline.map_or(Duration::from_millis(100), |at| {
                at.saturating_duration_since(Instant::now())
            });
            let polled = self
                .consumer
                .poll(timeout)
                .map(|result| result.map(|message| OwnedRecord::from_message(&message)));
            self.apply_assignment_changes(&mut batch)?;
            match polled {
                Some(Ok(record)) => {
                    let partition = TopicPartition {
                        topic: record.topic.clone(),
                        partition: record.partition,
                    };
                    if !self.owned.contains(&partition) {
                        // Never skip a record: one whose partition we have not
                        // restored yet gets its partition restored first.
                        self.assign(vec![partition])?;
                    }
                    batch.push(record);
                    deadline.get_or_insert_with(|| Instant::now() + self.config.max_batch_wait);
                }
                Some(Err(err)) => {
                    if is_fatal_consumer_error(&err) {
                        // E.g. this static member was fenced out of the group
                        // by another instance with its name: carrying on would
                        // spin on an unusable consumer while looking ready.
                        return Err(err.into());
                    }
                    tracing::warn!(name = %self.config.name, error = %Chain(&err), "consumer error");
                }
                None => drained = true,
            }
            let full = batch.len() >= self.config.max_batch;
            // Past the wait, still take what the consumer already holds:
            // under load a batch is what arrived during the last commit.
            let waited = drained && deadline.is_some_and(|at| Instant::now() >= at);
            let idle = batch.is_empty() && (shutdown.is_cancelled() || self.tick_due());
            if full || waited || idle {
                self.consumer.context().consumed(&batch);
                return Ok((batch, drained));
            }
        }
    }

    pub(super) fn apply_assignment_changes(
        &mut self,
        batch: &mut Vec<OwnedRecord>,
    ) -> Result<(), LoopError> {
        for change in self.consumer.context().take_changes() {
            match change {
                AssignmentChange::Revoked(partitions) => {
                    // Unprocessed records of a revoked partition are the new
                    // owner's to read from the committed offset.
                    batch.retain(|record| {
                        !partitions
                            .iter()
                            .any(|p| p.topic == record.topic && p.partition == record.partition)
                    });
                    for partition in &partitions {
                        self.owned.remove(partition);
                    }
                    self.processor.revoked(&partitions);
                }
                AssignmentChange::Assigned(partitions) => {
                    self.assign(partitions)?;
                    self.joined();
                }
            }
        }
        self.metrics.set_assigned(self.owned.len());
        Ok(())
    }

    /// librdkafka always delivers the assignment that follows a group join,
    /// an empty one included (`rd_kafka_cgrp_handle_assignment_cooperative`,
    /// and the eager protocol's full assignment), so this is reached.
    pub(super) fn joined(&mut self) {
        if !self.joined && self.failures_in_a_row < STALLED_AFTER {
            tracing::info!(name = %self.config.name, partitions = self.owned.len(), "partitions restored; ready");
            self.readiness.set_ready();
        }
        self.joined = true;
    }

    pub(super) fn assign(&mut self, partitions: Vec<TopicPartition>) -> Result<(), LoopError> {
        let started = Instant::now();
        self.processor.assigned(&self.settings, &partitions)?;
        tracing::info!(
            name = %self.config.name,
            ?partitions,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "state restored"
        );
        self.owned.extend(partitions);
        Ok(())
    }
}
