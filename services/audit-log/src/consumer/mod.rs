//! The audit consumer: `account-events`, `transfer-events` and
//! `command-results` → PostgreSQL, exactly once.
//!
//! One loop: poll a batch, then in **one database transaction** lock the
//! batch's stored offsets, drop records below them (already recorded, e.g.
//! by another instance during a rebalance), dead-letter the undecodable
//! (waiting for each delivery), append the rest to their chains, move the
//! offsets past the batch, commit. A crash before the commit leaves rows and
//! offsets as they were; after it, both moved together. Offsets are never
//! committed to Kafka; assignment starts from the stored ones ([`assign`]).

mod assign;
mod gaps;
mod lag;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use chrono::Utc;
use eventbank_events::{DeadLetter, TopicKind};
use eventbank_runtime::http::ReadinessCheck;
use eventbank_runtime::kafka::{
    BatchLimits, KafkaSettings, OwnedRecord, is_cooperative, next_batch, send_dead_letter,
    transactional_id,
};
use eventbank_runtime::shutdown::abort_and_wait;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::FutureProducer;
use tokio_postgres::Client;
use tokio_util::sync::CancellationToken;

pub use assign::KnownOffsets;
use assign::SeekOnAssign;

use crate::canonical::to_micros;
use crate::db::{Db, DbError};
use crate::entry::{Classified, classify};
use crate::metrics::AuditMetrics;
use crate::settings::AuditSettings;
use crate::store::{self, OffsetMap, Sourced};

const RETRY_BACKOFF: Duration = Duration::from_millis(500);
const DLQ_QUEUE_TIMEOUT: Duration = Duration::from_secs(5);

/// The topics the audit log reads.
pub const SOURCES: [TopicKind; 3] = [
    TopicKind::AccountEvents,
    TopicKind::TransferEvents,
    TopicKind::CommandResults,
];

#[derive(Debug, thiserror::Error)]
enum BatchError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("asking where a partition starts failed: {0}")]
    Watermarks(KafkaError),
    #[error("dead-lettering to {topic} failed: {error}")]
    DeadLetter { topic: String, error: KafkaError },
}

/// The consumer loop and what it writes with.
pub struct AuditConsumer {
    consumer: Arc<StreamConsumer<SeekOnAssign>>,
    producer: FutureProducer,
    db: Db,
    client: Option<Client>,
    sources: HashMap<String, TopicKind>,
    dead_letter_topics: HashMap<String, String>,
    consumer_name: String,
    settings: AuditSettings,
    metrics: AuditMetrics,
    ready: ReadinessCheck,
    offsets: KnownOffsets,
    idle: Arc<AtomicBool>,
}

impl std::fmt::Debug for AuditConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditConsumer")
            .field("consumer_name", &self.consumer_name)
            .finish_non_exhaustive()
    }
}

impl AuditConsumer {
    /// A consumer starting from `offsets` (the stored ones).
    pub fn new(
        kafka: &KafkaSettings,
        settings: &AuditSettings,
        instance: &str,
        db: Db,
        offsets: KnownOffsets,
        metrics: AuditMetrics,
        ready: ReadinessCheck,
    ) -> Result<Self, KafkaError> {
        let group = format!("{}{}", kafka.topic_prefix, settings.consumer_group);
        let mut config = kafka.consumer_config(&group);
        // Reaching a partition's end moves the position past trailing
        // transaction markers, which the lag measurement relies on.
        config.set("enable.partition.eof", "true");
        if settings.static_membership {
            config.set(
                "group.instance.id",
                transactional_id(kafka, "audit-log", instance),
            );
        }
        let cooperative = is_cooperative(&config);
        let consumer: StreamConsumer<SeekOnAssign> = config.create_with_context(SeekOnAssign {
            offsets: offsets.clone(),
            cooperative,
        })?;
        let topics = kafka.topics();
        Ok(Self {
            consumer: Arc::new(consumer),
            producer: kafka.producer()?,
            db,
            client: None,
            sources: SOURCES.iter().map(|k| (topics.name(*k), *k)).collect(),
            dead_letter_topics: SOURCES
                .iter()
                .map(|k| (topics.name(*k), topics.dlq(*k)))
                .collect(),
            consumer_name: format!("audit-log/{group}"),
            settings: settings.clone(),
            metrics,
            ready,
            offsets,
            idle: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Consumes until `shutdown`; a batch in flight then is either committed
    /// or rolled back (and read again by whoever owns the partition next).
    pub async fn run(mut self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let topics: Vec<&str> = self.sources.keys().map(String::as_str).collect();
        self.consumer.subscribe(&topics)?;
        let lag = tokio::spawn(lag::measure_loop(
            Arc::clone(&self.consumer),
            self.offsets.clone(),
            Arc::clone(&self.idle),
            self.db.clone(),
            self.metrics.clone(),
            Duration::from_millis(self.settings.lag_interval_ms.max(50)),
            shutdown.clone(),
        ));
        self.ready.set_ready();
        let limits = BatchLimits {
            max: self.settings.max_batch,
            wait: Duration::from_millis(self.settings.max_batch_wait_ms),
        };
        loop {
            let batch = match next_batch(&self.consumer, limits, &self.idle, &shutdown).await {
                Ok(Some(batch)) => batch,
                Ok(None) => break,
                Err(err) => {
                    // The consumer is unusable (fenced, say): stop and say so,
                    // so the service exits non-zero and is restarted.
                    abort_and_wait(lag).await;
                    self.ready
                        .set_not_ready(format!("fatal consumer error: {err}"));
                    return Err(anyhow::anyhow!("fatal consumer error: {err}"));
                }
            };
            if batch.is_empty() {
                continue;
            }
            loop {
                match self.record(&batch).await {
                    Ok(()) => {
                        self.ready.set_ready();
                        break;
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "recording a batch failed; retrying it");
                        self.ready.set_not_ready(format!("recording failed: {err}"));
                        tokio::select! {
                            () = shutdown.cancelled() => {
                                abort_and_wait(lag).await;
                                return Ok(());
                            }
                            () = tokio::time::sleep(RETRY_BACKOFF) => {}
                        }
                    }
                }
            }
        }
        abort_and_wait(lag).await;
        Ok(())
    }

    /// One batch, one transaction (see the module documentation), on the
    /// consumer's own connection, replaced if it was lost.
    async fn record(&mut self, batch: &[OwnedRecord]) -> Result<(), BatchError> {
        let mut client = match self.client.take() {
            Some(client) if !client.is_closed() => client,
            _ => self.db.connect().await?,
        };
        let result = self.record_with(&mut client, batch).await;
        self.client = Some(client);
        result
    }

    async fn record_with(
        &self,
        client: &mut Client,
        batch: &[OwnedRecord],
    ) -> Result<(), BatchError> {
        let tx = client.transaction().await?;
        let mut partitions: Vec<(String, i32)> = batch
            .iter()
            .map(|r| (r.topic.clone(), r.partition))
            .collect();
        partitions.sort();
        partitions.dedup();
        let stored = store::lock_offsets(&tx, &partitions).await?;
        let mut first_offsets = OffsetMap::new();
        for record in batch {
            first_offsets
                .entry((record.topic.clone(), record.partition))
                .or_insert(record.offset);
        }
        let unread = self.offsets.unread(&partitions);
        let found = gaps::find(
            &self.consumer,
            gaps::suspects(&first_offsets, &stored, &unread),
        )
        .await
        .map_err(BatchError::Watermarks)?;
        let lost = store::record_gaps(&tx, found).await?;

        let mut next = OffsetMap::new();
        let mut entries = Vec::new();
        let mut dead = Vec::new();
        let mut skipped = Vec::new();
        for record in batch {
            let key = (record.topic.clone(), record.partition);
            if record.offset < stored.get(&key).copied().unwrap_or(0) {
                continue; // recorded before, by this or another instance
            }
            let end = next.entry(key).or_insert(0);
            *end = (*end).max(record.offset + 1);
            let Some(kind) = self.sources.get(&record.topic).copied() else {
                dead.push((record, format!("unexpected topic {}", record.topic)));
                continue;
            };
            match classify(kind, record.payload.as_deref()) {
                Classified::Record(entry) => entries.push(Sourced {
                    entry: *entry,
                    topic: record.topic.clone(),
                    partition: record.partition,
                    offset: record.offset,
                }),
                Classified::Skip => skipped.push(record.topic.as_str()),
                Classified::Dead(reason) => dead.push((record, reason)),
            }
        }
        for (record, reason) in &dead {
            self.dead_letter(record, reason).await?;
        }
        let outcome = store::append(&tx, &entries, to_micros(Utc::now())).await?;
        store::save_offsets(&tx, &next).await?;
        tx.commit().await?;

        gaps::report(&lost, &self.metrics);
        self.offsets.advance(&next);
        self.offsets.read(&partitions);
        self.metrics.batch();
        self.metrics.duplicates(outcome.duplicates);
        let mut per_topic: HashMap<&str, u64> = HashMap::new();
        for sourced in &entries {
            *per_topic.entry(sourced.topic.as_str()).or_default() += 1;
        }
        // Duplicates are rare enough that attributing them is not worth it;
        // the per-topic counts include them and `audit_duplicates` says how many.
        for (topic, count) in per_topic {
            self.metrics.recorded(topic, count);
        }
        for topic in skipped {
            self.metrics.skipped(topic);
        }
        for (record, _) in &dead {
            self.metrics.dead_letter(&record.topic);
        }
        Ok(())
    }

    /// Copies the record to its dead-letter topic and waits for the broker.
    /// Done inside the batch's transaction: if the commit then fails, the
    /// retry dead-letters the record again (a duplicate dead letter, never a
    /// lost one).
    async fn dead_letter(&self, record: &OwnedRecord, reason: &str) -> Result<(), BatchError> {
        let topic = self
            .dead_letter_topics
            .get(&record.topic)
            .cloned()
            .unwrap_or_else(|| format!("{}{}", record.topic, eventbank_events::topics::DLQ_SUFFIX));
        let letter = DeadLetter {
            source_topic: record.topic.clone(),
            partition: record.partition,
            offset: record.offset,
            consumer: self.consumer_name.clone(),
            reason: reason.to_owned(),
            failed_at: Utc::now(),
        };
        send_dead_letter(&self.producer, &topic, record, &letter, DLQ_QUEUE_TIMEOUT)
            .await
            .map_err(|error| BatchError::DeadLetter {
                topic: topic.clone(),
                error,
            })?;
        tracing::warn!(
            source = %record.topic, partition = record.partition, offset = record.offset,
            %reason, dead_letter_topic = %topic, "record dead-lettered"
        );
        Ok(())
    }
}
