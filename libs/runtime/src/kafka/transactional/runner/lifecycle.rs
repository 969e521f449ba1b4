//! The loop from start to stop: new clients, batch-then-tick rounds until
//! shutdown, and the health it reports (ready, stalled) as transactions
//! commit or fail.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use tokio_util::sync::CancellationToken;

use super::{LAG_INTERVAL, LoopConfig, LoopError, STALLED_AFTER, TransactionalLoop};
use crate::http::ReadinessCheck;
use crate::kafka::KafkaSettings;
use crate::kafka::transactional::context::LoopContext;
use crate::kafka::transactional::metrics::LoopMetrics;
use crate::kafka::transactional::processor::{Processor, TopicPartition};
use crate::kafka::transactional::producers::ProducerRing;
use crate::kafka::transactional::watchdog::CallWatchdog;

impl<P: Processor> TransactionalLoop<P> {
    /// The loop with new clients; on failure the processor is handed back
    /// for the next attempt.
    pub(super) fn start(
        settings: KafkaSettings,
        config: LoopConfig,
        processor: P,
        metrics: LoopMetrics,
        readiness: ReadinessCheck,
        watchdog: CallWatchdog,
    ) -> Result<Self, (LoopError, P)> {
        let (consumer, producers) = match Self::connect(&settings, &config, &watchdog, &metrics) {
            Ok(clients) => clients,
            Err(err) => return Err((err, processor)),
        };
        // Ready once the group has handed this instance its partitions (an
        // empty share included) and they are restored: before that a
        // command sent to one of them would wait for the restore, and a
        // rolling update would move on to the next instance too early.
        readiness.set_not_ready(format!("{}: waiting for its partitions", config.name));
        tracing::info!(
            name = %config.name,
            transactional_id = %config.transactional_id,
            topics = ?config.input_topics,
            "transactional loop started"
        );
        Ok(Self {
            settings,
            config,
            processor,
            metrics,
            consumer,
            producers,
            owned: BTreeSet::new(),
            last_tick: Instant::now(),
            readiness,
            failures_in_a_row: 0,
            poisoned: HashMap::new(),
            watchdog,
            joined: false,
        })
    }

    pub(super) fn connect(
        settings: &KafkaSettings,
        config: &LoopConfig,
        watchdog: &CallWatchdog,
        metrics: &LoopMetrics,
    ) -> Result<(BaseConsumer<LoopContext>, ProducerRing), LoopError> {
        let producers = ProducerRing::new(
            settings,
            &config.transactional_id,
            config.transactional_producers,
            config.call_timeout,
            watchdog,
        )?;
        let mut consumer_config = settings.consumer_config(&config.group_id);
        if let Some(instance) = &config.group_instance_id {
            consumer_config.set("group.instance.id", instance);
        }
        // The lag metrics come from librdkafka's statistics (see LoopContext).
        consumer_config.set(
            "statistics.interval.ms",
            LAG_INTERVAL.as_millis().to_string(),
        );
        let consumer: BaseConsumer<LoopContext> =
            consumer_config.create_with_context(LoopContext::new(
                config.name.clone(),
                crate::kafka::is_cooperative(&consumer_config),
                metrics.clone(),
            ))?;
        let topics: Vec<&str> = config.input_topics.iter().map(String::as_str).collect();
        consumer.subscribe(&topics)?;
        Ok((consumer, producers))
    }

    /// The processor, with nothing staged and no partition: what a new loop
    /// starts from (it restores what it is assigned).
    pub(super) fn into_processor(mut self) -> P {
        self.processor.abort();
        let owned: Vec<TopicPartition> = std::mem::take(&mut self.owned).into_iter().collect();
        if !owned.is_empty() {
            self.processor.revoked(&owned);
        }
        self.processor
    }

    /// Batch, then tick — never the other way round: the records a batch
    /// collected are decided before any timed work, and the timed work runs
    /// only once the consumer had nothing more to hand over (or the tick is
    /// long overdue), so a restarted saga reads its backlog of answers before
    /// it retries anything those answers would have settled.
    pub(super) fn run(&mut self, shutdown: &CancellationToken) -> Result<(), LoopError> {
        while !shutdown.is_cancelled() {
            let (batch, drained) = self.collect_batch(shutdown)?;
            if !batch.is_empty() {
                let started = Instant::now();
                match self.process(&batch) {
                    Ok(written) => {
                        self.processor.commit();
                        self.committed();
                        self.metrics.committed(
                            batch.len(),
                            written.produced,
                            written.dead_letters,
                            started.elapsed().as_secs_f64(),
                        );
                    }
                    Err(err) => self.recover(err, &batch)?,
                }
            }
            if self.tick_due() && (drained || self.tick_overdue()) {
                self.tick()?;
            }
        }
        Ok(())
    }

    pub(super) fn tick_due(&self) -> bool {
        self.config
            .tick_interval
            .is_some_and(|every| self.last_tick.elapsed() >= every)
    }

    /// A tick waits for the consumer to drain, but not forever: under
    /// sustained load timed work (retries) must still happen.
    pub(super) fn tick_overdue(&self) -> bool {
        self.config
            .tick_interval
            .is_some_and(|every| self.last_tick.elapsed() >= every * 10)
    }

    pub(super) fn committed(&mut self) {
        if self.failures_in_a_row >= STALLED_AFTER {
            tracing::info!(name = %self.config.name, "committing again after a stall");
            self.readiness.set_ready();
            self.metrics.set_stalled(false);
        }
        self.failures_in_a_row = 0;
    }

    /// One more transaction that did not commit. Backs off so a loop that
    /// cannot make progress does not spin, and past [`STALLED_AFTER`] says so.
    pub(super) fn failed(&mut self, err: &dyn std::fmt::Display) {
        self.failures_in_a_row = self.failures_in_a_row.saturating_add(1);
        if self.failures_in_a_row == STALLED_AFTER {
            tracing::error!(name = %self.config.name, error = %err, failures = self.failures_in_a_row, "the loop cannot commit; reporting not ready");
            self.readiness
                .set_not_ready(format!("{}: cannot commit: {err}", self.config.name));
            self.metrics.set_stalled(true);
        }
        let backoff = 50_u64.saturating_mul(u64::from(self.failures_in_a_row.min(100)));
        std::thread::sleep(Duration::from_millis(backoff.min(2_000)));
    }
}
