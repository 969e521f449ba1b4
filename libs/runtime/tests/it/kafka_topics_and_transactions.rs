//! Against the real broker: topic setup is idempotent and checks co-partitioning,
//! and a transactional write is seen by a `read_committed` reader only when
//! committed.

use std::time::Duration;

use eventbank_events::TopicKind;
use eventbank_runtime::kafka::{
    KafkaSettings, TopicSetupError, create_system_topics, ensure_topics, transactional_id,
};
use eventbank_testkit::{Isolation, TestEnv};
use rdkafka::ClientConfig;
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::KafkaResult;
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;

const TIMEOUT: Duration = Duration::from_secs(30);

async fn setup(settings: &KafkaSettings) -> std::collections::BTreeMap<String, i32> {
    create_system_topics(settings, TIMEOUT)
        .await
        .expect("topics created")
}

/// The settings of `isolation`'s topics, created.
async fn with_topics(isolation: &Isolation) -> KafkaSettings {
    let settings = TestEnv::get().kafka_settings(&isolation.topic_prefix());
    setup(&settings).await;
    settings
}

#[tokio::test(flavor = "multi_thread")]
async fn creates_every_topic_once_and_again_without_error() {
    let isolation = Isolation::new("topics");
    let settings = TestEnv::get().kafka_settings(&isolation.topic_prefix());
    let first = setup(&settings).await;
    let second = setup(&settings).await;
    assert_eq!(first, second, "a second run changes nothing");

    let topics = settings.topics();
    for kind in TopicKind::ALL {
        let name = topics.name(kind);
        assert_eq!(
            first.get(&name),
            Some(&3),
            "{name} exists with 3 partitions"
        );
        let dlq = topics.dlq(kind);
        assert!(first.contains_key(&dlq), "{dlq} exists");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn refuses_co_partitioned_topics_with_different_partition_counts() {
    let isolation = Isolation::new("copart");
    let mut settings = TestEnv::get().kafka_settings(&isolation.topic_prefix());
    let topics = settings.topics();
    let admin = settings.admin_client().expect("admin client");
    // Someone created account-events by hand with another partition count.
    settings.topics.partitions = 2;
    let events_only: Vec<_> = topics
        .specs(&settings.layout())
        .into_iter()
        .filter(|spec| spec.name == topics.name(TopicKind::AccountEvents))
        .collect();
    ensure_topics(&admin, &events_only, &[], TIMEOUT)
        .await
        .expect("hand-made topic");

    settings.topics.partitions = 3;
    let err = create_system_topics(&settings, TIMEOUT)
        .await
        .expect_err("mismatched partitions must be refused");
    assert!(
        matches!(err, TopicSetupError::CoPartitioning { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("account-events=2"), "{err}");
}

/// A transactional producer onto `topic` (on `partition`, or where its key
/// hashes to), with librdkafka's blocking transaction calls run off the
/// runtime.
struct TxnWriter {
    producer: FutureProducer,
    topic: String,
    partition: Option<i32>,
    key: String,
}

impl TxnWriter {
    async fn new(
        settings: &KafkaSettings,
        name: &str,
        topic: &str,
        partition: Option<i32>,
        key: &str,
    ) -> Self {
        let producer = settings
            .transactional_producer(&transactional_id(settings, name, "0"), DefaultClientContext)
            .expect("transactional producer");
        let writer = Self {
            producer,
            topic: topic.to_owned(),
            partition,
            key: key.to_owned(),
        };
        writer
            .blocking("init_transactions", |p| p.init_transactions(TIMEOUT))
            .await;
        writer
    }

    fn begin(&self) {
        self.producer.begin_transaction().expect("begin");
    }

    async fn send(&self, value: &str) {
        let mut record = FutureRecord::to(&self.topic).key(&self.key).payload(value);
        record.partition = self.partition;
        self.producer
            .send(record, Timeout::After(TIMEOUT))
            .await
            .map_err(|(err, _)| err)
            .expect("send");
    }

    async fn commit(&self) {
        self.blocking("commit", |p| p.commit_transaction(TIMEOUT))
            .await;
    }

    async fn abort(&self) {
        self.blocking("abort", |p| p.abort_transaction(TIMEOUT))
            .await;
    }

    async fn blocking(
        &self,
        what: &str,
        call: impl FnOnce(&FutureProducer) -> KafkaResult<()> + Send + 'static,
    ) {
        let producer = self.producer.clone();
        tokio::task::spawn_blocking(move || call(&producer))
            .await
            .expect("join")
            .unwrap_or_else(|err| panic!("{what}: {err}"));
    }
}

fn consumer(settings: &KafkaSettings, group: &str, isolation_level: &str) -> StreamConsumer {
    let mut config: ClientConfig = settings.consumer_config(group);
    config.set("isolation.level", isolation_level);
    config.create().expect("consumer")
}

async fn read_values(consumer: &StreamConsumer, expected: usize) -> Vec<String> {
    let mut values = Vec::new();
    // Reading until a quiet period (not a fixed count) so an extra, wrongly
    // visible record would be seen, not ignored.
    while let Ok(message) = tokio::time::timeout(
        if values.len() >= expected {
            Duration::from_secs(3)
        } else {
            TIMEOUT
        },
        consumer.recv(),
    )
    .await
    {
        let message = message.expect("consume");
        values.push(String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned());
    }
    values
}

#[tokio::test(flavor = "multi_thread")]
async fn read_committed_sees_committed_transactions_only() {
    let isolation = Isolation::new("txn");
    let settings = with_topics(&isolation).await;
    let topic = settings.topics().name(TopicKind::AccountEvents);
    let key = uuid::Uuid::new_v4().to_string();
    let writer = TxnWriter::new(&settings, "test-writer", &topic, None, &key).await;

    writer.begin();
    writer.send("committed-1").await;
    writer.send("committed-2").await;
    writer.commit().await;

    writer.begin();
    writer.send("aborted").await;
    writer.abort().await;

    writer.begin();
    writer.send("committed-3").await;
    writer.commit().await;

    let committed = consumer(&settings, &isolation.consumer_group("rc"), "read_committed");
    committed.subscribe(&[&topic]).expect("subscribe");
    let values = read_values(&committed, 3).await;
    assert_eq!(values, ["committed-1", "committed-2", "committed-3"]);

    // The same log read uncommitted does contain the aborted record: the
    // difference above is the isolation level at work, not a lost write.
    let uncommitted = consumer(
        &settings,
        &isolation.consumer_group("ru"),
        "read_uncommitted",
    );
    uncommitted.subscribe(&[&topic]).expect("subscribe");
    let values = read_values(&uncommitted, 4).await;
    assert!(values.contains(&"aborted".to_owned()), "{values:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn partition_reader_waits_for_open_transactions_before_calling_a_read_complete() {
    use eventbank_runtime::kafka::{ReadError, read_partition};
    let isolation = Isolation::new("reader");
    let settings = with_topics(&isolation).await;
    let topic = settings.topics().name(TopicKind::AccountState);
    let writer = TxnWriter::new(&settings, "reader-test", &topic, Some(1), "k").await;
    let read = |limit: Duration| {
        let settings = settings.clone();
        let topic = topic.clone();
        async move {
            tokio::task::spawn_blocking(move || read_partition(&settings, &topic, 1, limit))
                .await
                .expect("join")
        }
    };

    let empty = read(TIMEOUT).await.expect("empty partition reads");
    assert!(empty.is_empty());

    writer.begin();
    writer.send("one").await;
    writer.send("two").await;
    writer.commit().await;
    let records = read(TIMEOUT).await.expect("committed records read");
    let payloads: Vec<_> = records
        .iter()
        .map(|r| r.payload.clone().unwrap_or_default())
        .collect();
    assert_eq!(payloads, [b"one".to_vec(), b"two".to_vec()]);

    writer.begin();
    writer.send("three").await;
    let err = read(Duration::from_secs(2))
        .await
        .expect_err("an open transaction blocks the read");
    assert!(matches!(err, ReadError::OpenTransaction { .. }), "{err}");
    writer.commit().await;
    let records = read(TIMEOUT).await.expect("read after commit");
    assert_eq!(
        records.len(),
        3,
        "the read includes what the open transaction committed"
    );
}
