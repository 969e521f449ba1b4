use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use eventbank_events::DeadLetter;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use super::context::{AssignmentChange, LoopContext};
use super::metrics::LoopMetrics;
use super::processor::{HandleError, Processor, ProcessorError, TopicPartition};
use crate::http::ReadinessCheck;
use crate::kafka::{KafkaSettings, OutputRecord, OwnedRecord};

/// How one transactional loop consumes and batches.
#[derive(Debug, Clone)]
pub struct LoopConfig {
    /// Names the loop in logs, metrics and dead-letter headers.
    pub name: String,
    pub input_topics: Vec<String>,
    pub group_id: String,
    /// Stable across restarts of the same instance; see `transactional_id`.
    pub transactional_id: String,
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
    #[error("the loop's thread panicked or was cancelled: {0}")]
    Join(String),
}

/// Starts the loop on a blocking thread. It runs until `shutdown` (finishing the
/// batch in hand first) or a fatal error.
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
        let result =
            TransactionalLoop::start(settings, config, processor, metrics, readiness.clone())
                .and_then(|mut running| running.run(&shutdown));
        match &result {
            Ok(()) => tracing::info!(name, "transactional loop stopped"),
            Err(err) => {
                readiness.set_not_ready(err.to_string());
                tracing::error!(name, error = %err, "transactional loop failed");
            }
        }
        result
    })
}

type Txn = ThreadedProducer<DefaultProducerContext>;

struct TransactionalLoop<P> {
    settings: KafkaSettings,
    config: LoopConfig,
    processor: P,
    metrics: LoopMetrics,
    consumer: BaseConsumer<LoopContext>,
    producer: Txn,
    owned: BTreeSet<TopicPartition>,
    last_tick: Instant,
}

/// How a batch failed decides what happens next.
enum BatchError {
    /// Abort, roll back, re-read the batch.
    Abortable(KafkaError),
    /// The producer is unusable (fenced, or a fatal idempotence error): roll
    /// back, re-read, and build a new producer.
    FatalProducer(KafkaError),
    /// The processor or configuration is broken: abort and stop.
    Stop(LoopError),
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
    fn start(
        settings: KafkaSettings,
        config: LoopConfig,
        processor: P,
        metrics: LoopMetrics,
        readiness: ReadinessCheck,
    ) -> Result<Self, LoopError> {
        let producer = new_producer(&settings, &config)?;
        let mut consumer_config = settings.consumer_config(&config.group_id);
        if let Some(instance) = &config.group_instance_id {
            consumer_config.set("group.instance.id", instance);
        }
        let consumer: BaseConsumer<LoopContext> =
            consumer_config.create_with_context(LoopContext::new(config.name.clone()))?;
        let topics: Vec<&str> = config.input_topics.iter().map(String::as_str).collect();
        consumer.subscribe(&topics)?;
        readiness.set_ready();
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
            producer,
            owned: BTreeSet::new(),
            last_tick: Instant::now(),
        })
    }

    fn run(&mut self, shutdown: &CancellationToken) -> Result<(), LoopError> {
        while !shutdown.is_cancelled() {
            let batch = self.collect_batch(shutdown)?;
            if self.tick_due() {
                self.tick()?;
            }
            if batch.is_empty() {
                continue;
            }
            let started = Instant::now();
            match self.process(&batch) {
                Ok(dead_letters) => {
                    self.processor.commit();
                    self.metrics.committed(
                        batch.len(),
                        dead_letters,
                        started.elapsed().as_secs_f64(),
                    );
                }
                Err(err) => self.recover(err, &batch)?,
            }
        }
        Ok(())
    }

    fn tick_due(&self) -> bool {
        self.config
            .tick_interval
            .is_some_and(|every| self.last_tick.elapsed() >= every)
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
        let produced = (|| {
            self.producer.begin_transaction()?;
            for output in &out {
                self.send(output)?;
            }
            self.commit()
        })();
        match produced {
            Ok(()) => {
                self.processor.commit();
                Ok(())
            }
            // Nothing was consumed, so there is nothing to re-read: the
            // processor's state is as before, and the next tick tries again.
            Err(err) => self.recover(err, &[]),
        }
    }

    /// After a failed transaction covering `batch`: abort it (or replace the
    /// producer) and roll back, or stop.
    fn recover(&mut self, err: BatchError, batch: &[OwnedRecord]) -> Result<(), LoopError> {
        match err {
            BatchError::Abortable(err) => {
                tracing::warn!(name = %self.config.name, error = %err, "aborting transaction; the batch will be re-read");
                if let Err(abort_err) = self.producer.abort_transaction(self.config.call_timeout) {
                    tracing::warn!(error = %abort_err, "abort failed; recreating the producer");
                    self.producer = new_producer(&self.settings, &self.config)?;
                }
                self.roll_back(batch)
            }
            BatchError::FatalProducer(err) => {
                tracing::warn!(name = %self.config.name, error = %err, "producer unusable (fenced?); recreating it");
                self.producer = new_producer(&self.settings, &self.config)?;
                self.roll_back(batch)
            }
            BatchError::Stop(err) => {
                // Best effort: the broker aborts it anyway when this
                // transactional id is next initialised or times out.
                let _ = self.producer.abort_transaction(self.config.call_timeout);
                self.processor.abort();
                Err(err)
            }
        }
    }

    /// Polls until the batch is full, or its first record has waited
    /// `max_batch_wait`, or shutdown is requested or a tick is due with
    /// nothing in hand.
    /// Assignment changes are applied right after the `poll` that reported them.
    fn collect_batch(
        &mut self,
        shutdown: &CancellationToken,
    ) -> Result<Vec<OwnedRecord>, LoopError> {
        let mut batch: Vec<OwnedRecord> = Vec::new();
        let mut deadline: Option<Instant> = None;
        loop {
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
                    if let KafkaError::Transaction(inner) = &err
                        && inner.is_fatal()
                    {
                        return Err(err.into());
                    }
                    tracing::warn!(name = %self.config.name, error = %err, "consumer error");
                }
                None => {}
            }
            let full = batch.len() >= self.config.max_batch;
            let waited = deadline.is_some_and(|at| Instant::now() >= at);
            let idle = batch.is_empty() && (shutdown.is_cancelled() || self.tick_due());
            if full || waited || idle {
                return Ok(batch);
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
                AssignmentChange::Assigned(partitions) => self.assign(partitions)?,
            }
        }
        self.metrics.set_assigned(self.owned.len());
        Ok(())
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
        self.producer.begin_transaction()?;
        let mut out = Vec::new();
        let mut dead_letters = 0;
        let mut next_offsets: BTreeMap<(&str, i32), i64> = BTreeMap::new();
        for record in batch {
            out.clear();
            match self.processor.handle(record, &mut out) {
                Ok(()) => {
                    for output in out.drain(..) {
                        self.send(&output)?;
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
        let mut offsets = TopicPartitionList::new();
        for ((topic, partition), offset) in next_offsets {
            offsets.add_partition_offset(topic, partition, Offset::Offset(offset))?;
        }
        let group = self.consumer.group_metadata().ok_or_else(|| {
            BatchError::Abortable(KafkaError::Subscription("no group metadata".into()))
        })?;
        self.producer
            .send_offsets_to_transaction(&offsets, &group, self.config.call_timeout)?;
        self.commit()?;
        Ok(dead_letters)
    }

    /// A retriable commit failure (a timeout, say) leaves the outcome open;
    /// librdkafka's contract is to call commit again until it is decided.
    fn commit(&self) -> Result<(), BatchError> {
        let mut attempts = 0;
        loop {
            match self.producer.commit_transaction(self.config.call_timeout) {
                Ok(()) => return Ok(()),
                Err(KafkaError::Transaction(err)) if err.is_retriable() && attempts < 5 => {
                    attempts += 1;
                    tracing::warn!(error = %err, attempts, "commit not confirmed yet; retrying");
                }
                Err(err) => return Err(err.into()),
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
            match self.producer.send(record) {
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

fn new_producer(settings: &KafkaSettings, config: &LoopConfig) -> Result<Txn, LoopError> {
    let producer: Txn = settings
        .transactional_producer_config(&config.transactional_id)
        .create()?;
    // Fences any earlier producer with this id and aborts its open transaction.
    producer.init_transactions(config.call_timeout)?;
    Ok(producer)
}
