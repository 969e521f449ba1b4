//! Against the real broker: topic setup is idempotent and checks co-partitioning,
//! and a transactional write is seen by a `read_committed` reader only when
//! committed.

use std::time::Duration;

use eventbank_events::TopicKind;
use eventbank_runtime::kafka::{KafkaSettings, TopicSetupError, ensure_topics, transactional_id};
use eventbank_testkit::{Isolation, TestEnv};
use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureRecord, Producer};
use rdkafka::util::Timeout;

const TIMEOUT: Duration = Duration::from_secs(30);

async fn setup(settings: &KafkaSettings) -> std::collections::BTreeMap<String, i32> {
    let admin = settings.admin_client().expect("admin client");
    let topics = settings.topics();
    ensure_topics(
        &admin,
        &topics.specs(&settings.layout()),
        &topics.co_partitioned_groups(),
        TIMEOUT,
    )
    .await
    .expect("topics created")
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
    let err = ensure_topics(
        &admin,
        &topics.specs(&settings.layout()),
        &topics.co_partitioned_groups(),
        TIMEOUT,
    )
    .await
    .expect_err("mismatched partitions must be refused");
    assert!(
        matches!(err, TopicSetupError::CoPartitioning { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("account-events=2"), "{err}");
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
    let settings = TestEnv::get().kafka_settings(&isolation.topic_prefix());
    setup(&settings).await;
    let topic = settings.topics().name(TopicKind::AccountEvents);

    let txn_id = transactional_id(&settings, "test-writer", "0");
    let producer = settings
        .transactional_producer(&txn_id, rdkafka::client::DefaultClientContext)
        .expect("transactional producer");
    let blocking = producer.clone();
    tokio::task::spawn_blocking(move || blocking.init_transactions(TIMEOUT))
        .await
        .expect("join")
        .expect("init_transactions");

    let key = uuid::Uuid::new_v4().to_string();
    let send = |value: &'static str| {
        let producer = producer.clone();
        let topic = topic.clone();
        let key = key.clone();
        async move {
            producer
                .send(
                    FutureRecord::to(&topic).key(&key).payload(value),
                    Timeout::After(TIMEOUT),
                )
                .await
                .map_err(|(err, _)| err)
                .expect("send");
        }
    };

    producer.begin_transaction().expect("begin");
    send("committed-1").await;
    send("committed-2").await;
    let blocking = producer.clone();
    tokio::task::spawn_blocking(move || blocking.commit_transaction(TIMEOUT))
        .await
        .expect("join")
        .expect("commit");

    producer.begin_transaction().expect("begin");
    send("aborted").await;
    let blocking = producer.clone();
    tokio::task::spawn_blocking(move || blocking.abort_transaction(TIMEOUT))
        .await
        .expect("join")
        .expect("abort");

    producer.begin_transaction().expect("begin");
    send("committed-3").await;
    let blocking = producer.clone();
    tokio::task::spawn_blocking(move || blocking.commit_transaction(TIMEOUT))
        .await
        .expect("join")
        .expect("commit");

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
    let settings = TestEnv::get().kafka_settings(&isolation.topic_prefix());
    setup(&settings).await;
    let topic = settings.topics().name(TopicKind::AccountState);
    let producer = settings
        .transactional_producer(
            &transactional_id(&settings, "reader-test", "0"),
            rdkafka::client::DefaultClientContext,
        )
        .expect("producer");
    let blocking = producer.clone();
    tokio::task::spawn_blocking(move || blocking.init_transactions(TIMEOUT))
        .await
        .expect("join")
        .expect("init");
    let send = |value: &'static str| {
        let producer = producer.clone();
        let topic = topic.clone();
        async move {
            producer
                .send(
                    FutureRecord::to(&topic)
                        .partition(1)
                        .key("k")
                        .payload(value),
                    Timeout::After(TIMEOUT),
                )
                .await
                .map_err(|(err, _)| err)
                .expect("send");
        }
    };
    let commit = || {
        let producer = producer.clone();
        async move {
            tokio::task::spawn_blocking(move || producer.commit_transaction(TIMEOUT))
                .await
                .expect("join")
                .expect("commit");
        }
    };
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

    producer.begin_transaction().expect("begin");
    send("one").await;
    send("two").await;
    commit().await;
    let records = read(TIMEOUT).await.expect("committed records read");
    let payloads: Vec<_> = records
        .iter()
        .map(|r| r.payload.clone().unwrap_or_default())
        .collect();
    assert_eq!(payloads, [b"one".to_vec(), b"two".to_vec()]);

    producer.begin_transaction().expect("begin");
    send("three").await;
    let err = read(Duration::from_secs(2))
        .await
        .expect_err("an open transaction blocks the read");
    assert!(matches!(err, ReadError::OpenTransaction { .. }), "{err}");
    commit().await;
    let records = read(TIMEOUT).await.expect("read after commit");
    assert_eq!(
        records.len(),
        3,
        "the read includes what the open transaction committed"
    );
}
