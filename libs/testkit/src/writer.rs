//! Records put straight onto a test's topics, the way the services key them,
//! without the service that would write them: so a test can write any event
//! (gaps, conflicts) or any bytes (poison) a consumer must cope with.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use eventbank_events::testing::envelope;
use eventbank_events::{
    AccountEvent, AccountId, TopicKind, Topics, TransferEvent, TransferId, WireRecord, wire,
};
use eventbank_runtime::kafka::KafkaSettings;
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::{Isolation, TestEnv};

/// How long a record may wait in the producer's queue.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(30);

/// A producer onto one test's topics that counts what the broker acknowledged.
pub struct RecordWriter {
    producer: FutureProducer,
    topics: Topics,
    produced: AtomicU64,
}

impl std::fmt::Debug for RecordWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordWriter")
            .field("produced", &self.produced())
            .finish_non_exhaustive()
    }
}

impl RecordWriter {
    pub fn new(kafka: &KafkaSettings) -> Self {
        Self {
            producer: kafka.producer().expect("producer"),
            topics: kafka.topics(),
            produced: AtomicU64::new(0),
        }
    }

    /// On `isolation`'s topics of the shared broker.
    pub fn isolated(isolation: &Isolation) -> Self {
        Self::new(&TestEnv::get().kafka_settings(&isolation.topic_prefix()))
    }

    /// The full name of the test's topic `kind`.
    pub fn topic(&self, kind: TopicKind) -> String {
        self.topics.name(kind)
    }

    /// Writes `key` and `value` as they are to `kind`, on `partition` or
    /// where the key hashes to; returns the record's offset.
    pub async fn raw_to(
        &self,
        kind: TopicKind,
        partition: Option<i32>,
        key: &[u8],
        value: &[u8],
    ) -> i64 {
        let topic = self.topic(kind);
        let mut record = FutureRecord::to(&topic).key(key).payload(value);
        record.partition = partition;
        let delivery = self
            .producer
            .send(record, QUEUE_TIMEOUT)
            .await
            .map_err(|(err, _)| err)
            .expect("produce");
        self.produced.fetch_add(1, Ordering::SeqCst);
        delivery.offset
    }

    /// Writes `key` and `value` as they are to `kind`.
    pub async fn raw(&self, kind: TopicKind, key: &[u8], value: &[u8]) {
        self.raw_to(kind, None, key, value).await;
    }

    /// Writes `record` wire-encoded under its own key.
    pub async fn send<R: WireRecord>(&self, kind: TopicKind, record: &R) {
        self.send_to_partition(kind, None, record).await;
    }

    /// Sends `record` to `partition` whatever its key hashes to; returns
    /// its offset.
    pub async fn send_to<R: WireRecord>(&self, kind: TopicKind, partition: i32, record: &R) -> i64 {
        self.send_to_partition(kind, Some(partition), record).await
    }

    async fn send_to_partition<R: WireRecord>(
        &self,
        kind: TopicKind,
        partition: Option<i32>,
        record: &R,
    ) -> i64 {
        let key = wire::encode_key(record.key());
        self.raw_to(kind, partition, &key, &wire::encode(record))
            .await
    }

    /// Writes `event` as `account`'s `sequence`th event.
    pub async fn account(&self, account: AccountId, sequence: u64, event: AccountEvent) {
        let envelope = envelope(account.into(), sequence, event);
        self.send(TopicKind::AccountEvents, &envelope).await;
    }

    /// Writes `event` as `transfer`'s `sequence`th event.
    pub async fn transfer(&self, transfer: TransferId, sequence: u64, event: TransferEvent) {
        let envelope = envelope(transfer.into(), sequence, event);
        self.send(TopicKind::TransferEvents, &envelope).await;
    }

    /// Records acknowledged so far, on any topic.
    pub fn produced(&self) -> u64 {
        self.produced.load(Ordering::SeqCst)
    }
}
