use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use eventbank_events::DeadLetter;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use super::context::{AssignmentChange, LoopContext};
use super::metrics::{LoopMetrics, Phase};
use super::processor::{HandleError, Processor, ProcessorError, TopicPartition};
use super::producers::ProducerRing;
use super::watchdog::CallWatchdog;
use crate::error_chain::Chain;
use crate::http::ReadinessCheck;
use crate::kafka::{KafkaSettings, OutputRecord, OwnedRecord, is_fatal_consumer_error};

/// How one transactional loop consumes and batches.
#[derive(Debug, Clone)]
pub struct LoopConfig {
    /// Names the loop in logs, metrics and dead-letter headers.
    pub name: String,
    pub input_topics: Vec<String>,
    pub group_id: String,
    /// Stable across restarts of the same instance; see `transactional_id`.
    /// The first producer of the ring uses it, the others `<id>.<n>`.
    pub transactional_id: String,
    /// Transactional producers used in turn (see `producers.rs`: why, and
    /// why it keeps exactly-once); 1 is a single producer.
    pub transactional_producers: usize,
    /// Static group membership (`group.instance.id`), stable across restarts
    /// like the transactional id: a restarted instance takes its old
    /// member's place at once, with no rebalance and no wait for the dead
    /// member's session to time out.
    pub group_instance_id: Option<String>,
    /// Input topic → its dead-letter topic.
    pub dead_letter_topics: HashMap<String, String>,
    /// Records per transaction at most.
    pub max_batch: usize,
    /// How long the first record of a batch waits for company. Transactions
    /// cost a few round trips each; batching amortises them.
    pub max_batch_wait: Duration,
    /// Timeout of each blocking transactional call.
    pub call_timeout: Duration,
    /// How often [`Processor::tick`] runs; `None`: never.
    pub tick_interval: Option<Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoopError {
    #[error("kafka: {0}")]
    Kafka(#[from] KafkaError),
    #[error("processor: {0}")]
    Processor(#[from] ProcessorError),
    #[error("no dead-letter topic configured for {0}")]
    NoDeadLetterTopic(String),
}

impl LoopError {
    /// Whether starting the loop again in this process cannot help: this
    /// instance was fenced out of its group by another with its identity,
    /// or the configuration is wrong. Everything else (a broker away, a
    /// restore cut short, a producer that cannot be rebuilt yet) is cured by
    /// new clients and a fresh restore, which is what a restart does.
    pub fn is_fatal(&self) -> bool {
        match self {
            Self::Kafka(err) => {
                is_fatal_consumer_error(err) || matches!(err, KafkaError::ClientCreation(_))
            }
            Self::Processor(_) => false,
            Self::NoDeadLetterTopic(_) => true,
        }
    }
}

/// Back-off before the loop is started again after a transient failure:
/// doubling from this, up to [`RESTART_BACKOFF_MAX`].
const RESTART_BACKOFF_MIN: Duration = Duration::from_millis(500);
const RESTART_BACKOFF_MAX: Duration = Duration::from_secs(30);
/// A loop that ran this long before failing starts its back-off afresh.
const RESTART_BACKOFF_RESET: Duration = Duration::from_secs(60);

/// Starts the loop on a blocking thread. It runs until `shutdown` (finishing the
/// batch in hand first) or a fatal error ([`LoopError::is_fatal`]); after any
/// other error it is started again in place, with back-off: new clients,
/// every partition restored from its state topic, not ready meanwhile, and
/// counted in `eventbank_txn_loop_restarts`. One broker of three going away
/// must not stop a service.
pub fn spawn_loop<P: Processor>(
    settings: KafkaSettings,
    config: LoopConfig,
    processor: P,
    metrics: LoopMetrics,
    readiness: ReadinessCheck,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<Result<(), LoopError>> {
    tokio::task::spawn_blocking(move || {
        let name = config.name.clone();
        let result = run_restarting(
            &settings, &config, processor, &metrics, &readiness, &shutdown,
        );
        match &result {
            Ok(()) => tracing::info!(name, "transactional loop stopped"),
            Err(err) => {
                readiness.set_not_ready(Chain(err).to_string());
                tracing::error!(name, error = %Chain(err), "transactional loop failed");
            }
        }
        result
    })
}

fn run_restarting<P: Processor>(
    settings: &KafkaSettings,
    config: &LoopConfig,
    mut processor: P,
    metrics: &LoopMetrics,
    readiness: &ReadinessCheck,
    shutdown: &CancellationToken,
) -> Result<(), LoopError> {
    let mut backoff = RESTART_BACKOFF_MIN;
    // Far past any call's own timeout (a commit is retried call by call, so
    // a long outage never trips it).
    let watchdog = CallWatchdog::start(config.name.clone(), config.call_timeout * 3);
    loop {
        let started = Instant::now();
        let result = match TransactionalLoop::start(
            settings.clone(),
            config.clone(),
            processor,
            metrics.clone(),
            readiness.clone(),
            watchdog.clone(),
        ) {
            Ok(mut running) => {
                let result = running.run(shutdown);
                processor = running.into_processor();
                result
            }
            Err((err, returned)) => {
                processor = returned;
                Err(err)
            }
        };
        let err = match result {
            Ok(()) => return Ok(()),
            Err(err) if err.is_fatal() || shutdown.is_cancelled() => return Err(err),
            Err(err) => err,
        };
        if started.elapsed() >= RESTART_BACKOFF_RESET {
            backoff = RESTART_BACKOFF_MIN;
        }
        metrics.loop_restarted();
        readiness.set_not_ready(format!(
            "{}: restarting after: {}",
            config.name,
            Chain(&err)
        ));
        tracing::warn!(
            name = %config.name,
            error = %Chain(&err),
            backoff_ms = backoff.as_millis() as u64,
            "transactional loop failed; starting it again"
        );
        let deadline = Instant::now() + backoff;
        while Instant::now() < deadline {
            if shutdown.is_cancelled() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        backoff = (backoff * 2).min(RESTART_BACKOFF_MAX);
    }
}

struct TransactionalLoop<P> {
    settings: KafkaSettings,
    config: LoopConfig,
    processor: P,
    metrics: LoopMetrics,
    consumer: BaseConsumer<LoopContext>,
    producers: ProducerRing,
    owned: BTreeSet<TopicPartition>,
    last_tick: Instant,
    readiness: ReadinessCheck,
    /// Transactions in a row that did not commit; see [`STALLED_AFTER`].
    failures_in_a_row: u32,
    /// Input records whose outputs Kafka refused for good (too large, say),
    /// with the reason: dead-lettered instead of handled when re-read, so one
    /// record can never make its partition abort forever.
    poisoned: HashMap<(String, i32, i64), String>,
    watchdog: CallWatchdog,
    /// Whether the first assignment since this loop started was applied.
    joined: bool,
}

/// How often [`TransactionalLoop::wait_for_delivery`] looks at the in-flight
/// count: small against a commit's few milliseconds.
const DELIVERY_POLL: Duration = Duration::from_micros(200);

/// After this many transactions in a row fail, the loop reports itself not
/// ready (and the stalled gauge shows it) until one commits again.
const STALLED_AFTER: u32 = 5;

/// How a batch failed decides what happens next.
enum BatchError {
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
fn refused_for_good(err: &KafkaError) -> bool {
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

impl<P: Processor> TransactionalLoop<P> {
    /// The loop with new clients; on failure the processor is handed back
    /// for the next attempt.
    fn start(
        settings: KafkaSettings,
        config: LoopConfig,
        processor: P,
        metrics: LoopMetrics,
        readiness: ReadinessCheck,
        watchdog: CallWatchdog,
    ) -> Result<Self, (LoopError, P)> {
        let (consumer, producers) = match Self::connect(&settings, &config, &watchdog) {
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

    fn connect(
        settings: &KafkaSettings,
        config: &LoopConfig,
        watchdog: &CallWatchdog,
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
        let consumer: BaseConsumer<LoopContext> =
            consumer_config.create_with_context(LoopContext::new(
                config.name.clone(),
                crate::kafka::is_cooperative(&consumer_config),
            ))?;
        let topics: Vec<&str> = config.input_topics.iter().map(String::as_str).collect();
        consumer.subscribe(&topics)?;
        Ok((consumer, producers))
    }

    /// The processor, with nothing staged and no partition: what a new loop
    /// starts from (it restores what it is assigned).
    fn into_processor(mut self) -> P {
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
    fn run(&mut self, shutdown: &CancellationToken) -> Result<(), LoopError> {
        while !shutdown.is_cancelled() {
            let (batch, drained) = self.collect_batch(shutdown)?;
            if !batch.is_empty() {
                let started = Instant::now();
                match self.process(&batch) {
                    Ok(dead_letters) => {
                        self.processor.commit();
                        self.committed();
                        self.metrics.committed(
                            batch.len(),
                            dead_letters,
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

    fn tick_due(&self) -> bool {
        self.config
            .tick_interval
            .is_some_and(|every| self.last_tick.elapsed() >= every)
    }

    /// A tick waits for the consumer to drain, but not forever: under
    /// sustained load timed work (retries) must still happen.
    fn tick_overdue(&self) -> bool {
        self.config
            .tick_interval
            .is_some_and(|every| self.last_tick.elapsed() >= every * 10)
    }

    fn committed(&mut self) {
        if self.failures_in_a_row >= STALLED_AFTER {
            tracing::info!(name = %self.config.name, "committing again after a stall");
            self.readiness.set_ready();
            self.metrics.set_stalled(false);
        }
        self.failures_in_a_row = 0;
    }

    /// One more transaction that did not commit. Backs off so a loop that
    /// cannot make progress does not spin, and past [`STALLED_AFTER`] says so.
    fn failed(&mut self, err: &dyn std::fmt::Display) {
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

    /// Runs the processor's timed work in a transaction of its own (none if
    /// it produced nothing).
    fn tick(&mut self) -> Result<(), LoopError> {
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
    fn fence_with_current_offsets(&self) -> Result<(), BatchError> {
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
        let group = self.consumer.group_metadata().ok_or_else(|| {
            BatchError::Abortable(KafkaError::Subscription("no group metadata".into()))
        })?;
        self.watchdog.call("send_offsets_to_transaction", || {
            self.producers.current().send_offsets_to_transaction(
                &offsets,
                &group,
                self.config.call_timeout,
            )
        })?;
        Ok(())
    }

    /// After a failed transaction covering `batch`: abort it (or replace the
    /// producer) and roll back, or stop.
    fn recover(&mut self, err: BatchError, batch: &[OwnedRecord]) -> Result<(), LoopError> {
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
    fn abort_transaction(&mut self) -> Result<(), LoopError> {
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

    /// Polls until the batch is full, or its first record has waited
    /// `max_batch_wait` and the consumer has nothing more buffered, or
    /// shutdown is requested or a tick is due with nothing in hand.
    /// Assignment changes are applied right after the `poll` that reported them.
    /// Also answers whether the consumer ran dry (its last poll found no
    /// record), which is when timed work may run.
    fn collect_batch(
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
                return Ok((batch, drained));
            }
        }
    }

    fn apply_assignment_changes(&mut self, batch: &mut Vec<OwnedRecord>) -> Result<(), LoopError> {
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
    fn joined(&mut self) {
        if !self.joined && self.failures_in_a_row < STALLED_AFTER {
            tracing::info!(name = %self.config.name, partitions = self.owned.len(), "partitions restored; ready");
            self.readiness.set_ready();
        }
        self.joined = true;
    }

    fn assign(&mut self, partitions: Vec<TopicPartition>) -> Result<(), LoopError> {
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

    /// One transaction: outputs and dead letters of every record, then the
    /// offsets after the last record of each partition. Returns the number of
    /// dead letters.
    fn process(&mut self, batch: &[OwnedRecord]) -> Result<usize, BatchError> {
        let started = Instant::now();
        self.producers.begin()?;
        let mut out = Vec::new();
        let mut dead_letters = 0;
        let mut next_offsets: BTreeMap<(&str, i32), i64> = BTreeMap::new();
        for record in batch {
            out.clear();
            let handled = match self.poisoned_reason(record) {
                Some(reason) => Err(HandleError::DeadLetter(reason)),
                None => self.processor.handle(record, &mut out),
            };
            match handled {
                Ok(()) => {
                    for output in out.drain(..) {
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
                    }
                }
                Err(HandleError::DeadLetter(reason)) => {
                    tracing::warn!(
                        name = %self.config.name,
                        topic = %record.topic,
                        partition = record.partition,
                        offset = record.offset,
                        %reason,
                        "dead-lettering record"
                    );
                    let dead_letter = self.dead_letter(record, reason).map_err(BatchError::Stop)?;
                    self.send(&dead_letter)?;
                    dead_letters += 1;
                }
                Err(HandleError::Fatal(err)) => return Err(BatchError::Stop(err.into())),
            }
            next_offsets.insert((record.topic.as_str(), record.partition), record.offset + 1);
        }
        out.clear();
        self.processor
            .finish_batch(&mut out)
            .map_err(|err| BatchError::Stop(err.into()))?;
        for output in &out {
            self.send(output)?;
        }
        let mut offsets = TopicPartitionList::new();
        for ((topic, partition), offset) in next_offsets {
            offsets.add_partition_offset(topic, partition, Offset::Offset(offset))?;
        }
        let group = self.consumer.group_metadata().ok_or_else(|| {
            BatchError::Abortable(KafkaError::Subscription("no group metadata".into()))
        })?;
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
        self.watchdog.call("send_offsets_to_transaction", || {
            self.producers.current().send_offsets_to_transaction(
                &offsets,
                &group,
                self.config.call_timeout,
            )
        })?;
        timed(Phase::Offsets);
        self.commit()?;
        timed(Phase::Commit);
        Ok(dead_letters)
    }

    /// Why `record` is to be dead-lettered unhandled, if an earlier attempt
    /// found its outputs refused for good. No key is built while nothing is
    /// poisoned: this runs for every record.
    fn poisoned_reason(&self, record: &OwnedRecord) -> Option<String> {
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
    fn wait_for_delivery(&self) -> Result<(), BatchError> {
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

    /// A retriable commit failure (a timeout, say) leaves the outcome open;
    /// librdkafka's contract is to call commit again until it is decided, so
    /// this does, for as long as it takes (a broker may be paused for
    /// minutes). Only an answer that says the transaction must be aborted is
    /// taken as "not committed"; anything else is [`BatchError::Undecided`].
    fn commit(&self) -> Result<(), BatchError> {
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

    fn send(&self, output: &OutputRecord) -> Result<(), KafkaError> {
        let mut headers = OwnedHeaders::new_with_capacity(output.headers.len());
        for (key, value) in &output.headers {
            headers = headers.insert(Header {
                key,
                value: Some(value.as_slice()),
            });
        }
        let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(&output.topic)
            .key(output.key.as_slice())
            .headers(headers);
        if let Some(payload) = &output.payload {
            record = record.payload(payload.as_slice());
        }
        if let Some(partition) = output.partition {
            record = record.partition(partition);
        }
        loop {
            match self.producers.current().send(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                    record = returned;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err((err, _)) => return Err(err),
            }
        }
    }

    fn dead_letter(&self, record: &OwnedRecord, reason: String) -> Result<OutputRecord, LoopError> {
        let topic = self
            .config
            .dead_letter_topics
            .get(&record.topic)
            .ok_or_else(|| LoopError::NoDeadLetterTopic(record.topic.clone()))?;
        let metadata = DeadLetter {
            source_topic: record.topic.clone(),
            partition: record.partition,
            offset: record.offset,
            consumer: self.config.name.clone(),
            reason,
            failed_at: chrono::Utc::now(),
        };
        // The original key, value and headers travel unchanged: a dead letter
        // can be replayed byte for byte once the cause is fixed.
        let mut headers = record.headers.clone();
        headers.extend(
            metadata
                .headers()
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value.into_bytes())),
        );
        Ok(OutputRecord {
            topic: topic.clone(),
            partition: None,
            key: record.key.clone().unwrap_or_default(),
            payload: record.payload.clone(),
            headers,
        })
    }

    /// After a transaction whose outcome was unknown and has since been
    /// settled: nothing in memory can be trusted, so every owned partition's
    /// state is restored from its state topic (which holds exactly what
    /// committed) and the consumer resumes at the group's committed offsets
    /// (the earliest offset where none was ever committed).
    fn reload(&mut self) -> Result<(), LoopError> {
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
    fn roll_back(&mut self, batch: &[OwnedRecord]) -> Result<(), LoopError> {
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
