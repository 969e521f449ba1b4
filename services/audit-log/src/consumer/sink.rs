//! The audit log's [`Sink`]: one batch, one PostgreSQL transaction (see the
//! module above), on the consumer's own connection, replaced if it was lost.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use eventbank_events::TopicKind;
use eventbank_runtime::http::{ReadinessCheck, StoreCalls};
use eventbank_runtime::kafka::sink::Sink;
use eventbank_runtime::kafka::{DeadLetterError, DeadLetterer, OwnedRecord};
use rdkafka::consumer::StreamConsumer;
use rdkafka::error::KafkaError;
use tokio_postgres::Client;

use super::{KnownOffsets, SeekOnAssign, gaps};
use crate::canonical::to_micros;
use crate::db::{Db, DbError};
use crate::entry::{Classified, classify};
use crate::metrics::AuditMetrics;
use crate::store::{self, OffsetMap, Sourced};

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("asking where a partition starts failed: {0}")]
    Watermarks(KafkaError),
    #[error(transparent)]
    DeadLetter(#[from] DeadLetterError),
}

pub struct PostgresSink {
    /// For the watermark queries of the retention-gap check.
    pub consumer: Arc<StreamConsumer<SeekOnAssign>>,
    pub db: Db,
    /// Only the consumer loop writes; the lock is never contended.
    pub client: tokio::sync::Mutex<Option<Client>>,
    pub sources: HashMap<String, TopicKind>,
    pub dead_letters: DeadLetterer,
    pub metrics: AuditMetrics,
    pub calls: StoreCalls,
    pub ready: ReadinessCheck,
    pub offsets: KnownOffsets,
}

impl Sink for PostgresSink {
    type Item = OwnedRecord;
    type Error = BatchError;

    fn prepare(&self, record: OwnedRecord) -> OwnedRecord {
        record
    }

    async fn write(&self, batch: &[OwnedRecord]) -> Result<(), BatchError> {
        let mut slot = self.client.lock().await;
        let mut client = match slot.take() {
            Some(client) if !client.is_closed() => client,
            _ => self.db.connect().await?,
        };
        let result = self
            .calls
            .time("append_batch", self.record(&mut client, batch))
            .await;
        *slot = Some(client);
        result
    }

    fn written(&self, _batch: &[OwnedRecord]) {
        self.ready.set_ready();
    }

    fn write_failed(&self, error: &BatchError) {
        self.ready
            .set_not_ready(format!("recording failed: {error}"));
    }
}

impl PostgresSink {
    async fn record(&self, client: &mut Client, batch: &[OwnedRecord]) -> Result<(), BatchError> {
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
        // Inside the batch's transaction: if the commit then fails, the retry
        // dead-letters the record again (a duplicate dead letter, never a
        // lost one).
        for (record, reason) in &dead {
            self.dead_letters.send(record, reason).await?;
        }
        let outcome = store::append(&tx, &entries, to_micros(Utc::now())).await?;
        store::save_offsets(&tx, &next).await?;
        tx.commit().await?;

        gaps::report(&lost, &self.metrics);
        self.offsets.advance(&next);
        self.offsets.read(&partitions);
        self.count(&entries, &skipped, &dead, outcome.duplicates);
        Ok(())
    }

    fn count(
        &self,
        entries: &[Sourced],
        skipped: &[&str],
        dead: &[(&OwnedRecord, String)],
        duplicates: u64,
    ) {
        self.metrics.batch();
        self.metrics.duplicates(duplicates);
        let mut per_topic: HashMap<&str, u64> = HashMap::new();
        for sourced in entries {
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
        for (record, _) in dead {
            self.metrics.dead_letter(&record.topic);
        }
    }
}
