//! The [`SinkConsumer`] loop: poll a batch, have the sink write it (retrying
//! until it does), and only then commit its offsets. While a batch is
//! written, the records the consumer already holds can be taken and
//! prepared as the next one ([`SinkOptions::overlap`]); batches are still
//! written one after another, in order. A crash anywhere before the commit
//! re-reads the batch, which the sink tolerates (see the module above).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer, ConsumerContext, StreamConsumer};
use rdkafka::error::KafkaError;
use tokio_util::sync::CancellationToken;

use super::lag::{LagObserver, Probe};
use super::positions::{self, Positions};
use super::{Offsets, Sink, SinkOptions};
use crate::error_chain::Chain;
use crate::http::ReadinessCheck;
use crate::kafka::{
    KafkaSettings, batch_span, consume_span, leave_group, link_record, next_batch, receive_while,
};
use crate::shutdown::abort_and_wait;

/// How long leaving the group may take at the end (see [`leave_group`]).
const LEAVE_WITHIN: Duration = Duration::from_secs(10);

/// Why a [`SinkConsumer`] stopped before it was asked to.
#[derive(Debug, thiserror::Error)]
pub enum SinkConsumerError {
    #[error("subscribing to {topics:?} failed")]
    Subscribe {
        topics: Vec<String>,
        #[source]
        source: KafkaError,
    },
    /// The consumer is unusable (fenced, say): the service must exit
    /// non-zero and be restarted rather than spin while it looks ready.
    #[error("fatal consumer error")]
    Fatal(#[source] KafkaError),
}

/// The consumer configuration for group `group`, joining as static member
/// `static_member` if given.
pub fn sink_consumer_config(
    kafka: &KafkaSettings,
    group: &str,
    static_member: Option<&str>,
) -> ClientConfig {
    let mut config = kafka.consumer_config(group);
    if let Some(member) = static_member {
        config.set("group.instance.id", member);
    }
    // Reaching a partition's end moves the position past trailing
    // transaction markers, which the lag probe relies on.
    config.set("enable.partition.eof", "true");
    config
}

/// A consumer feeding a [`Sink`].
pub struct SinkConsumer<C: ConsumerContext + 'static> {
    consumer: Arc<StreamConsumer<C>>,
    options: SinkOptions,
    readiness: Option<ReadinessCheck>,
    positions: Positions,
    /// True while the loop waits for a batch (everything received is written).
    idle: Arc<AtomicBool>,
}

impl<C: ConsumerContext + 'static> std::fmt::Debug for SinkConsumer<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SinkConsumer")
            .field("topics", &self.options.topics)
            .finish_non_exhaustive()
    }
}

impl<C: ConsumerContext + 'static> SinkConsumer<C> {
    /// `readiness`, if given, is told about a fatal consumer error.
    pub fn new(
        consumer: StreamConsumer<C>,
        options: SinkOptions,
        readiness: Option<ReadinessCheck>,
    ) -> Self {
        let start = match &options.offsets {
            Offsets::Kafka => Default::default(),
            Offsets::InSink(stored) => stored.clone(),
        };
        Self {
            consumer: Arc::new(consumer),
            options,
            readiness,
            positions: Positions::new(start),
            idle: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The consumer, for a sink that asks the broker something (watermarks).
    pub fn consumer(&self) -> Arc<StreamConsumer<C>> {
        Arc::clone(&self.consumer)
    }

    /// Consumes into `sink` until `shutdown`. A batch in flight when shutdown
    /// comes is either written and committed or left uncommitted (and read
    /// again later).
    pub async fn run<S: Sink, L: LagObserver>(
        self,
        sink: S,
        observer: L,
        shutdown: CancellationToken,
    ) -> Result<(), SinkConsumerError> {
        let topics: Vec<&str> = self.options.topics.iter().map(String::as_str).collect();
        self.consumer
            .subscribe(&topics)
            .map_err(|source| SinkConsumerError::Subscribe {
                topics: self.options.topics.clone(),
                source,
            })?;
        let probe = Probe {
            consumer: Arc::clone(&self.consumer),
            positions: self.positions.clone(),
            idle: Arc::clone(&self.idle),
            group_committed: matches!(self.options.offsets, Offsets::Kafka),
            topics: self.options.topics.clone(),
        };
        let lag = tokio::spawn(probe.run(
            Arc::new(observer),
            self.options.lag_interval,
            shutdown.clone(),
        ));
        let result = self.consume(&sink, &shutdown).await;
        abort_and_wait(lag).await;
        if let Ok(Stopped::Drained) = result {
            self.final_commit();
        }
        leave_group(&self.consumer, LEAVE_WITHIN).await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => {
                if let Some(ready) = &self.readiness {
                    ready.set_not_ready(format!("fatal consumer error: {err}"));
                }
                Err(SinkConsumerError::Fatal(err))
            }
        }
    }

    async fn consume<S: Sink>(
        &self,
        sink: &S,
        shutdown: &CancellationToken,
    ) -> Result<Stopped, KafkaError> {
        let limits = self.options.limits;
        // Records received (and prepared) while the previous batch was being
        // written: the next batch, taken before asking the consumer for more.
        let mut received: Vec<S::Item> = Vec::new();
        loop {
            let batch = if received.is_empty() {
                match next_batch(&self.consumer, limits, &self.idle, shutdown).await? {
                    Some(batch) => batch.into_iter().map(|r| sink.prepare(r)).collect(),
                    None => return Ok(Stopped::Drained),
                }
            } else {
                std::mem::take(&mut received)
            };
            if batch.is_empty() {
                continue;
            }
            // One span per record, children of the traces they carry, open
            // while the batch is written (none when traces are off).
            let (_write_span, spans) = record_spans(&batch, &self.options.group);
            let mut consumer_failed = Ok(());
            loop {
                // Receiving stops once shutdown is asked for, so the loop
                // ends after what is in hand and the final commit covers
                // only written records.
                let outcome = if self.options.overlap
                    && consumer_failed.is_ok()
                    && !shutdown.is_cancelled()
                {
                    let room = limits.max.saturating_sub(received.len());
                    let (outcome, receiving) =
                        receive_while(&self.consumer, sink.write(&batch), room, |record| {
                            received.push(sink.prepare(record));
                        })
                        .await;
                    consumer_failed = receiving;
                    outcome
                } else {
                    sink.write(&batch).await
                };
                match outcome {
                    Ok(()) => break,
                    Err(err) => {
                        tracing::warn!(error = %Chain(&err), "writing a batch failed; retrying it");
                        sink.write_failed(&err);
                        tokio::select! {
                            () = shutdown.cancelled() => return Ok(Stopped::WhileRetrying),
                            () = tokio::time::sleep(self.options.retry_backoff) => {}
                        }
                    }
                }
            }
            self.commit(&batch);
            sink.written(&batch);
            for span in spans {
                // The record's log line: where a trace leads in the logs.
                span.in_scope(|| tracing::debug!("record written"));
            }
            // What was received before a consumer error is not written: its
            // offsets stay uncommitted, and the next owner reads it.
            consumer_failed?;
        }
    }

    fn commit<T: super::Consumed>(&self, batch: &[T]) {
        let next = positions::after(batch);
        if matches!(self.options.offsets, Offsets::Kafka) {
            let list = positions::offset_list(next.iter().map(|((t, p), o)| (*t, *p, *o)));
            // A failed commit (e.g. the partition was just revoked) only means
            // the batch is read again somewhere, which the sink tolerates.
            if let Err(err) = self.consumer.commit(&list, CommitMode::Async) {
                tracing::warn!(error = %err, "offset commit failed");
            }
        }
        self.positions.advance(batch, &next);
    }

    /// Each batch's offsets were committed asynchronously once it was
    /// written; the last of them again, synchronously, so a restart resumes
    /// exactly after what is written. Records received but not written are
    /// never committed: the consumer's own position (which includes them) is
    /// not what is committed, here or anywhere. Only partitions still
    /// assigned: one revoked earlier may have moved on under its new owner,
    /// whose commits must not be rewound.
    fn final_commit(&self) {
        if !matches!(self.options.offsets, Offsets::Kafka) {
            return;
        }
        let assigned = self.consumer.assignment().unwrap_or_default();
        let written = self.positions.snapshot();
        let list =
            positions::offset_list(written.iter().filter_map(|((topic, partition), offset)| {
                assigned
                    .find_partition(topic, *partition)
                    .map(|_| (topic.as_str(), *partition, *offset))
            }));
        if list.count() > 0
            && let Err(err) = self.consumer.commit(&list, CommitMode::Sync)
        {
            tracing::debug!(error = %err, "final offset commit failed");
        }
    }
}

/// One span per record, and the batch's span linked to them all (nothing
/// when traces are off).
fn record_spans<T: super::Consumed>(
    batch: &[T],
    group: &str,
) -> (tracing::Span, Vec<tracing::Span>) {
    if !crate::telemetry::enabled() {
        return (tracing::Span::none(), Vec::new());
    }
    let write = batch_span(group, batch.len());
    let records = batch
        .iter()
        .map(|item| {
            let span = consume_span(item.record(), group);
            link_record(&write, &span);
            span
        })
        .collect();
    (write, records)
}

/// How the loop ended when asked to stop.
enum Stopped {
    /// Between batches: everything received is written.
    Drained,
    /// While a failed write waited to be retried: that batch is not written.
    WhileRetrying,
}
