//! The consumer: `account-events` and `transfer-events` → Redis.
//!
//! One loop: poll a batch, decode, apply it to Redis in one pipelined round
//! trip, dead-letter what cannot be decoded (waiting for each delivery), and
//! only then commit the batch's offsets. While a batch is applied, the
//! records the consumer already holds are taken as the next batch, so
//! receiving and copying them overlaps the Redis round trip; batches are
//! still applied one after another, in order. A crash anywhere before the commit
//! re-reads the batch, which is harmless because applying is idempotent.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::Utc;
use eventbank_events::{AccountEventEnvelope, DeadLetter, TopicKind, TransferEventEnvelope, wire};
use eventbank_runtime::http::ReadinessCheck;
use eventbank_runtime::kafka::{
    BatchLimits, GroupContext, KafkaSettings, OwnedRecord, next_batch, receive_while,
    send_dead_letter,
};
use eventbank_runtime::shutdown::abort_and_wait;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::FutureProducer;
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::metrics::ProjectorMetrics;
use crate::settings::ProjectorSettings;
use crate::store::{Event, Outcome, Store};

const RETRY_BACKOFF: Duration = Duration::from_millis(500);
const DLQ_QUEUE_TIMEOUT: Duration = Duration::from_secs(5);

type Positions = Arc<Mutex<HashMap<(String, i32), i64>>>;

/// The projector's consumer loop and its helpers.
pub struct Projector {
    consumer: Arc<StreamConsumer<GroupContext>>,
    producer: FutureProducer,
    store: Store,
    metrics: ProjectorMetrics,
    ready: Option<ServingReadiness>,
    progress: watch::Sender<Progress>,
    account_topic: String,
    transfer_topic: String,
    dead_letter_topics: HashMap<String, String>,
    consumer_name: String,
    settings: ProjectorSettings,
    /// Next offset to read per partition, as far as this loop has committed.
    positions: Positions,
    /// True while the loop waits for a batch (everything received is applied).
    idle: Arc<AtomicBool>,
}

impl std::fmt::Debug for Projector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Projector")
            .field("consumer_name", &self.consumer_name)
            .finish_non_exhaustive()
    }
}

impl Projector {
    /// A projector into `store`'s generation. `ready` is flipped once it has
    /// caught up (the serving projector has one; a rebuild does not).
    /// `static_member` is the `group.instance.id` to join with, if any.
    pub fn new(
        kafka: &KafkaSettings,
        settings: &ProjectorSettings,
        store: Store,
        metrics: ProjectorMetrics,
        ready: Option<ServingReadiness>,
        static_member: Option<&str>,
    ) -> anyhow::Result<Self> {
        let group = consumer_group(kafka, settings, store.generation());
        let mut config = kafka.consumer_config(&group);
        if let Some(member) = static_member {
            config.set("group.instance.id", member);
        }
        // Reaching the end of a partition updates the consumer's position past
        // trailing transaction markers, which the lag measurement relies on.
        config.set("enable.partition.eof", "true");
        let consumer: StreamConsumer<GroupContext> =
            config.create_with_context(GroupContext::for_config(&config))?;
        let topics = kafka.topics();
        let account_topic = topics.name(TopicKind::AccountEvents);
        let transfer_topic = topics.name(TopicKind::TransferEvents);
        let dead_letter_topics = HashMap::from([
            (account_topic.clone(), topics.dlq(TopicKind::AccountEvents)),
            (
                transfer_topic.clone(),
                topics.dlq(TopicKind::TransferEvents),
            ),
        ]);
        Ok(Self {
            consumer: Arc::new(consumer),
            producer: kafka.producer()?,
            store,
            metrics,
            ready,
            progress: watch::Sender::new(Progress::default()),
            account_topic,
            transfer_topic,
            dead_letter_topics,
            consumer_name: format!("balance-projector/{group}"),
            settings: settings.clone(),
            positions: Arc::default(),
            idle: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Reports how far the projector has caught up.
    pub fn progress(&self) -> watch::Receiver<Progress> {
        self.progress.subscribe()
    }

    /// Consumes until `shutdown`. A batch in flight when shutdown comes is
    /// either finished and committed or left uncommitted (and re-read later).
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        self.consumer
            .subscribe(&[self.account_topic.as_str(), self.transfer_topic.as_str()])?;
        let lag = tokio::spawn(lag_loop(
            Arc::clone(&self.consumer),
            Arc::clone(&self.positions),
            Arc::clone(&self.idle),
            self.metrics.clone(),
            self.store.generation(),
            [self.account_topic.clone(), self.transfer_topic.clone()],
            self.ready.clone(),
            self.progress.clone(),
            Duration::from_millis(self.settings.lag_interval_ms.max(50)),
            shutdown.clone(),
        ));
        let limits = BatchLimits {
            max: self.settings.max_batch,
            wait: Duration::from_millis(self.settings.max_batch_wait_ms),
        };
        // Records received (and decoded) while the previous batch was being
        // applied: the next batch, taken before asking the consumer for more.
        let mut received: Vec<Decoded> = Vec::new();
        loop {
            let batch = if received.is_empty() {
                match next_batch(&self.consumer, limits, &self.idle, &shutdown).await {
                    Ok(Some(batch)) => batch.into_iter().map(|r| self.decoded(r)).collect(),
                    Ok(None) => break,
                    Err(err) => {
                        let err = self.fatal(&err);
                        abort_and_wait(lag).await;
                        return Err(err);
                    }
                }
            } else {
                std::mem::take(&mut received)
            };
            if batch.is_empty() {
                continue;
            }
            let mut consumer_failed = Ok(());
            loop {
                // Receiving stops once shutdown is asked for, so the loop
                // ends after what is in hand and the final commit of the
                // consumer's position covers only applied records.
                let outcome = if consumer_failed.is_ok() && !shutdown.is_cancelled() {
                    let room = limits.max.saturating_sub(received.len());
                    let (outcome, receiving) =
                        receive_while(&self.consumer, self.process(&batch), room, |record| {
                            received.push(self.decoded(record));
                        })
                        .await;
                    consumer_failed = receiving;
                    outcome
                } else {
                    self.process(&batch).await
                };
                match outcome {
                    Ok(()) => break,
                    Err(err) => {
                        tracing::warn!(error = %err, "applying a batch failed; retrying it");
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
            self.commit(&batch);
            if let Err(err) = consumer_failed {
                // What was received before the error is not applied: its
                // offsets stay uncommitted, and the next owner reads it.
                let err = self.fatal(&err);
                abort_and_wait(lag).await;
                return Err(err);
            }
        }
        abort_and_wait(lag).await;
        // Each batch's offsets were committed asynchronously once it was
        // applied; the last of them again, synchronously, so a restart
        // resumes exactly after what is applied. Records received but not
        // applied are never committed: the consumer's own position (which
        // includes them) is not what is committed, here or anywhere.
        // Only partitions still assigned: a partition revoked earlier may
        // have moved on under its new owner, whose commits must not be rewound.
        let assigned = self.consumer.assignment().unwrap_or_default();
        let applied = self
            .positions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let list = offset_list(applied.iter().filter_map(|((topic, partition), offset)| {
            assigned
                .find_partition(topic, *partition)
                .map(|_| (topic.as_str(), *partition, *offset))
        }));
        if list.count() > 0
            && let Err(err) = self.consumer.commit(&list, CommitMode::Sync)
        {
            tracing::debug!(error = %err, "final offset commit failed");
        }
        Ok(())
    }

    /// The consumer is unusable (fenced, say): stop and say so, so the
    /// service exits non-zero and is restarted.
    fn fatal(&self, err: &KafkaError) -> anyhow::Error {
        if let Some(ready) = &self.ready {
            ready
                .check
                .set_not_ready(format!("fatal consumer error: {err}"));
        }
        anyhow::anyhow!("fatal consumer error: {err}")
    }

    /// Decode, apply to Redis, dead-letter the undecodable. Offsets are not
    /// touched; an error means the whole batch is retried.
    async fn process(&self, batch: &[Decoded]) -> anyhow::Result<()> {
        let mut events = Vec::with_capacity(batch.len());
        let mut topics_of_events = Vec::with_capacity(batch.len());
        let mut dead = Vec::new();
        for Decoded { record, event } in batch {
            match event {
                Ok(event) => {
                    events.push(event);
                    topics_of_events.push(record.topic.as_str());
                }
                Err(reason) => dead.push((record, reason.as_str())),
            }
        }
        let outcomes = self.store.apply(&events).await?;
        let mut counts: BTreeMap<(&str, &str), u64> = BTreeMap::new();
        for ((event, outcome), topic) in events.iter().zip(&outcomes).zip(topics_of_events) {
            *counts.entry((topic, outcome.label())).or_default() += 1;
            if matches!(outcome, Outcome::Gap | Outcome::Malformed) {
                tracing::error!(
                    %topic, stream = %event.stream(), sequence = event.sequence(), outcome = outcome.label(),
                    "event not applied: the stream has a gap or a bad start; its later events \
                     are held back until it is repaired"
                );
            }
        }
        for ((topic, outcome), count) in counts {
            self.metrics
                .events(self.store.generation(), topic, outcome, count);
        }
        for (record, reason) in dead {
            self.dead_letter(record, reason).await?;
        }
        Ok(())
    }

    fn decoded(&self, record: OwnedRecord) -> Decoded {
        let event = self.decode(&record);
        Decoded { record, event }
    }

    fn decode(&self, record: &OwnedRecord) -> Result<Event, String> {
        let Some(payload) = &record.payload else {
            return Err("record has no value".to_owned());
        };
        if record.topic == self.account_topic {
            wire::decode::<AccountEventEnvelope>(payload)
                .map(Event::Account)
                .map_err(|err| err.to_string())
        } else {
            wire::decode::<TransferEventEnvelope>(payload)
                .map(Event::Transfer)
                .map_err(|err| err.to_string())
        }
    }

    /// Copies the record's bytes and headers to its dead-letter topic and
    /// waits for the broker to have it.
    async fn dead_letter(&self, record: &OwnedRecord, reason: &str) -> anyhow::Result<()> {
        let Some(topic) = self.dead_letter_topics.get(&record.topic) else {
            anyhow::bail!("no dead-letter topic for {}", record.topic);
        };
        let letter = DeadLetter {
            source_topic: record.topic.clone(),
            partition: record.partition,
            offset: record.offset,
            consumer: self.consumer_name.clone(),
            reason: reason.to_owned(),
            failed_at: Utc::now(),
        };
        send_dead_letter(&self.producer, topic, record, &letter, DLQ_QUEUE_TIMEOUT)
            .await
            .map_err(|err| anyhow::anyhow!("dead-lettering to {topic} failed: {err}"))?;
        self.metrics.dead_letter(&record.topic);
        tracing::warn!(
            source = %record.topic, partition = record.partition, offset = record.offset,
            dlq = %topic, %reason, "undecodable record dead-lettered"
        );
        Ok(())
    }

    fn commit(&self, batch: &[Decoded]) {
        let mut next: BTreeMap<(&str, i32), i64> = BTreeMap::new();
        for Decoded { record, .. } in batch {
            let entry = next
                .entry((record.topic.as_str(), record.partition))
                .or_insert(0);
            *entry = (*entry).max(record.offset + 1);
        }
        let list = offset_list(next.iter().map(|((t, p), o)| (*t, *p, *o)));
        // A failed commit (e.g. the partition was just revoked) only means the
        // batch is read again somewhere, which applying tolerates.
        if let Err(err) = self.consumer.commit(&list, CommitMode::Async) {
            tracing::warn!(error = %err, "offset commit failed");
        }
        self.metrics.batch();
        let mut positions = self
            .positions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for ((topic, partition), offset) in next {
            let entry = positions.entry((topic.to_owned(), partition)).or_insert(0);
            *entry = (*entry).max(offset);
        }
    }
}

/// The commit of `next` offsets per (topic, partition).
fn offset_list<'a>(next: impl IntoIterator<Item = (&'a str, i32, i64)>) -> TopicPartitionList {
    let mut list = TopicPartitionList::new();
    for (topic, partition, offset) in next {
        if let Err(err) = list.add_partition_offset(topic, partition, Offset::Offset(offset)) {
            tracing::warn!(error = %err, "cannot build the offset commit");
        }
    }
    list
}

/// A record and what decoding it gave: the event, or why it goes to the
/// dead-letter topic.
#[derive(Debug)]
struct Decoded {
    record: OwnedRecord,
    event: Result<Event, String>,
}

/// The serving projector's `/readyz` check. Ready once caught up at start;
/// it stays ready across generation switches.
#[derive(Debug, Clone)]
pub struct ServingReadiness {
    check: ReadinessCheck,
    ever: Arc<AtomicBool>,
}

impl ServingReadiness {
    pub fn new(check: ReadinessCheck) -> Self {
        Self {
            check,
            ever: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// How far a projector has caught up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Every partition assigned to this projector is applied to its end.
    pub caught_up: bool,
    /// This projector is assigned every partition of both topics.
    pub all_partitions: bool,
    /// Offsets not yet applied, summed over the assigned partitions.
    pub behind: i64,
}

/// The consumer group of the projector writing `generation`: the configured
/// group for generation 1, a group of its own for each later generation (a
/// rebuild starts from offset zero).
pub fn consumer_group(
    kafka: &KafkaSettings,
    settings: &ProjectorSettings,
    generation: u64,
) -> String {
    if generation <= 1 {
        format!("{}{}", kafka.topic_prefix, settings.consumer_group)
    } else {
        format!(
            "{}{}.g{generation}",
            kafka.topic_prefix, settings.consumer_group
        )
    }
}

/// Measures per-partition lag, publishes progress, and flips readiness once
/// every assigned partition has been caught up (once; it stays ready).
#[allow(clippy::too_many_arguments)]
async fn lag_loop(
    consumer: Arc<StreamConsumer<GroupContext>>,
    positions: Positions,
    idle: Arc<AtomicBool>,
    metrics: ProjectorMetrics,
    generation: u64,
    topics: [String; 2],
    ready: Option<ServingReadiness>,
    progress: watch::Sender<Progress>,
    interval: Duration,
    shutdown: CancellationToken,
) {
    let mut is_ready = false;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        let consumer = Arc::clone(&consumer);
        let positions = Arc::clone(&positions);
        let idle = Arc::clone(&idle);
        let topics = topics.clone();
        let measured = tokio::task::spawn_blocking(move || {
            let lags = measure_lag(&consumer, &positions, &idle)?;
            let total = partition_count(&consumer, &topics)?;
            Ok::<_, KafkaError>((lags, total))
        })
        .await;
        let (lags, total) = match measured {
            Ok(Ok(measured)) => measured,
            Ok(Err(err)) => {
                tracing::debug!(error = %err, "lag measurement failed");
                continue;
            }
            Err(_) => continue,
        };
        for ((topic, partition), lag) in &lags {
            metrics.lag(generation, topic, *partition, *lag);
        }
        let caught_up = !lags.is_empty() && lags.values().all(|lag| *lag == 0);
        progress.send_replace(Progress {
            caught_up,
            all_partitions: lags.len() == total,
            behind: lags.values().sum(),
        });
        if !is_ready && let Some(ready) = &ready {
            if caught_up {
                is_ready = true;
                ready.ever.store(true, Ordering::SeqCst);
                ready.check.set_ready();
                tracing::info!(generation, "caught up with every assigned partition");
            } else if !ready.ever.load(Ordering::SeqCst) {
                let behind: i64 = lags.values().sum();
                ready
                    .check
                    .set_not_ready(format!("catching up: {behind} offsets behind"));
            }
        }
    }
}

fn partition_count(
    consumer: &StreamConsumer<GroupContext>,
    topics: &[String; 2],
) -> Result<usize, KafkaError> {
    let mut total = 0;
    for topic in topics {
        let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(5))?;
        total += metadata
            .topics()
            .iter()
            .filter(|meta| meta.name() == topic)
            .map(|meta| meta.partitions().len())
            .sum::<usize>();
    }
    Ok(total)
}

fn measure_lag(
    consumer: &StreamConsumer<GroupContext>,
    positions: &Positions,
    idle: &AtomicBool,
) -> Result<BTreeMap<(String, i32), i64>, KafkaError> {
    let assignment = consumer.assignment()?;
    // Offsets the group committed before this instance started (a restart
    // with nothing new to read delivers no message to learn them from).
    let group_committed = if assignment.count() > 0 {
        consumer.committed_offsets(assignment.clone(), Duration::from_secs(5))?
    } else {
        TopicPartitionList::new()
    };
    let idle_before = idle.load(Ordering::SeqCst);
    let position = consumer.position()?;
    let idle = idle_before && idle.load(Ordering::SeqCst);
    let committed = positions
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let mut lags = BTreeMap::new();
    for elem in assignment.elements() {
        let (topic, partition) = (elem.topic().to_owned(), elem.partition());
        // A read_committed consumer is told the last stable offset.
        let (_, high) = consumer.fetch_watermarks(&topic, partition, Duration::from_secs(5))?;
        let consumed = position
            .find_partition(&topic, partition)
            .and_then(|p| p.offset().to_raw())
            .unwrap_or(0);
        let done = committed
            .get(&(topic.clone(), partition))
            .copied()
            .unwrap_or(0)
            .max(
                group_committed
                    .find_partition(&topic, partition)
                    .and_then(|p| p.offset().to_raw())
                    .unwrap_or(0),
            );
        // The consumer's position runs ahead of what is applied while a batch
        // is in hand; when the loop is idle everything received is applied,
        // and the position (which also steps over transaction markers) counts.
        let at = if idle { done.max(consumed) } else { done };
        lags.insert((topic, partition), (high - at).max(0));
    }
    Ok(lags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_one_uses_the_configured_group_and_later_ones_their_own() {
        let kafka = KafkaSettings {
            topic_prefix: "t.".into(),
            ..KafkaSettings::default()
        };
        let settings = ProjectorSettings::default();
        assert_eq!(
            consumer_group(&kafka, &settings, 1),
            "t.eventbank-balance-projector"
        );
        assert_eq!(
            consumer_group(&kafka, &settings, 3),
            "t.eventbank-balance-projector.g3"
        );
    }
}
