//! One batch as one Kafka transaction: outputs and dead letters sent,
//! delivery awaited, the input offsets added, the commit retried until it
//! is decided.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::Producer;
use rdkafka::{Offset, TopicPartitionList};

use super::TransactionalLoop;
use super::batch_error::{BatchError, refused_for_good};
use crate::error_chain::Chain;
use crate::kafka::OwnedRecord;
use crate::kafka::transactional::metrics::Phase;
use crate::kafka::transactional::processor::{HandleError, Processor};
use crate::kafka::{batch_span, consume_span, dead_letter_record, link_record};
use crate::telemetry::propagation::inject_current;

/// How often [`TransactionalLoop::wait_for_delivery`] looks at the in-flight
/// count: small against a commit's few milliseconds.
const DELIVERY_POLL: Duration = Duration::from_micros(200);

/// What a batch's transaction wrote.
#[derive(Debug, Default)]
pub(super) struct Written {
    /// Every record, dead letters included.
    pub produced: usize,
    pub dead_letters: usize,
}

impl<P: Processor> TransactionalLoop<P> {
    /// One transaction: outputs and dead letters of every record, then the
    /// offsets after the last record of each partition.
    pub(super) fn process(&mut self, batch: &[OwnedRecord]) -> Result<Written, BatchError> {
        let started = Instant::now();
        self.producers.begin()?;
        let mut out = Vec::new();
        let mut written = Written::default();
        let mut next_offsets: BTreeMap<(&str, i32), i64> = BTreeMap::new();
        let transaction = batch_span(&self.config.name, batch.len());
        for record in batch {
            // Outputs sent while it is entered carry its trace onwards.
            let span = consume_span(record, &self.config.group_id);
            link_record(&transaction, &span);
            let _entered = span.enter();
            out.clear();
            let handled = match self.poisoned_reason(record) {
                Some(reason) => Err(HandleError::dead_letter(reason)),
                None => self.processor.handle(record, &mut out),
            };
            match handled {
                Ok(()) => {
                    for mut output in out.drain(..) {
                        inject_current(&mut output.headers);
                        if let Err(err) = self.send(&output) {
                            if refused_for_good(&err) {
                                return Err(BatchError::Poisoned {
                                    record: (record.topic.clone(), record.partition, record.offset),
                                    reason: format!(
                                        "an output to {} was refused: {err}",
                                        output.topic
                                    ),
                                });
                            }
                            return Err(err.into());
                        }
                        written.produced += 1;
                    }
                }
                Err(HandleError::DeadLetter(cause)) => {
                    let reason = Chain(&*cause).to_string();
                    tracing::warn!(
                        name = %self.config.name,
                        topic = %record.topic,
                        partition = record.partition,
                        offset = record.offset,
                        %reason,
                        "dead-lettering record"
                    );
                    let mut dead_letter = dead_letter_record(record, &self.config.name, reason);
                    inject_current(&mut dead_letter.headers);
                    self.send(&dead_letter)?;
                    written.produced += 1;
                    written.dead_letters += 1;
                }
                Err(HandleError::Fatal(err)) => return Err(BatchError::Stop(err.into())),
            }
            // The record's log line: where a trace leads in the logs.
            tracing::debug!(name = %self.config.name, "record processed");
            next_offsets.insert((record.topic.as_str(), record.partition), record.offset + 1);
        }
        out.clear();
        self.processor
            .finish_batch(&mut out)
            .map_err(|err| BatchError::Stop(err.into()))?;
        for output in &out {
            self.send(output)?;
        }
        written.produced += out.len();
        let mut offsets = TopicPartitionList::new();
        for ((topic, partition), offset) in next_offsets {
            offsets.add_partition_offset(topic, partition, Offset::Offset(offset))?;
        }
        let mut lap = started;
        let mut timed = |phase: Phase| {
            let now = Instant::now();
            self.metrics
                .phase(phase, now.duration_since(lap).as_secs_f64());
            lap = now;
        };
        timed(Phase::Handle);
        self.wait_for_delivery()?;
        timed(Phase::Deliver);
        self.send_offsets(&offsets)?;
        timed(Phase::Offsets);
        self.commit()?;
        timed(Phase::Commit);
        Ok(written)
    }

    /// Why `record` is to be dead-lettered unhandled, if an earlier attempt
    /// found its outputs refused for good. No key is built while nothing is
    /// poisoned: this runs for every record.
    pub(super) fn poisoned_reason(&self, record: &OwnedRecord) -> Option<String> {
        if self.poisoned.is_empty() {
            return None;
        }
        self.poisoned
            .get(&(record.topic.clone(), record.partition, record.offset))
            .cloned()
    }

    /// Waits until every record of the open transaction is acknowledged (or
    /// has failed, which then fails the commit).
    ///
    /// `commit_transaction` flushes first, but rust-rdkafka's flush polls in
    /// whole 100 ms steps while anything is in flight (its poll does not
    /// return early), which put a 100 ms floor under every commit. Sending
    /// the offsets right after the records also meets a coordinator that
    /// has not registered the batch's partitions yet (`CONCURRENT_TRANSACTIONS`,
    /// retried after `retry.backoff.ms`). Here the producer's own poll thread
    /// serves the delivery reports, so the in-flight count drops to zero as
    /// soon as the broker has acknowledged; watching it costs well under a
    /// millisecond, and the flush inside the commit then finds nothing to do.
    pub(super) fn wait_for_delivery(&self) -> Result<(), BatchError> {
        let started = Instant::now();
        while self.producers.current().in_flight_count() > 0 {
            if started.elapsed() >= self.config.call_timeout {
                return Err(BatchError::Abortable(KafkaError::Flush(
                    RDKafkaErrorCode::OperationTimedOut,
                )));
            }
            std::thread::sleep(DELIVERY_POLL);
        }
        Ok(())
    }

    /// Adds `offsets` to the open transaction with the group's metadata, so
    /// the broker commits them only for a member that still owns them.
    pub(super) fn send_offsets(&self, offsets: &TopicPartitionList) -> Result<(), BatchError> {
        let group = self.consumer.group_metadata().ok_or_else(|| {
            BatchError::Abortable(KafkaError::Subscription("no group metadata".into()))
        })?;
        self.watchdog.call("send_offsets_to_transaction", || {
            self.producers.current().send_offsets_to_transaction(
                offsets,
                &group,
                self.config.call_timeout,
            )
        })?;
        Ok(())
    }

    /// A retriable commit failure (a timeout, say) leaves the outcome open;
    /// librdkafka's contract is to call commit again until it is decided, so
    /// this does, for as long as it takes (a broker may be paused for
    /// minutes). Only an answer that says the transaction must be aborted is
    /// taken as "not committed"; anything else is [`BatchError::Undecided`].
    pub(super) fn commit(&self) -> Result<(), BatchError> {
        let mut attempts: u32 = 0;
        loop {
            let committed = self.watchdog.call("commit_transaction", || {
                self.producers
                    .current()
                    .commit_transaction(self.config.call_timeout)
            });
            match committed {
                Ok(()) => return Ok(()),
                Err(KafkaError::Transaction(err)) if err.is_retriable() => {
                    attempts = attempts.saturating_add(1);
                    self.metrics.commit_retried();
                    tracing::warn!(error = %Chain(&err), attempts, "commit not confirmed yet; retrying");
                    std::thread::sleep(Duration::from_millis(
                        (50 * u64::from(attempts.min(20))).min(1_000),
                    ));
                }
                Err(KafkaError::Transaction(err))
                    if err.txn_requires_abort() && !err.is_fatal() =>
                {
                    return Err(BatchError::Abortable(KafkaError::Transaction(err)));
                }
                Err(err) => return Err(BatchError::Undecided(err)),
            }
        }
    }
}
