//! Kafka chores of a run: topics under the run's prefix, producing a
//! backlog straight to a topic, reading a topic to its end, and deleting
//! everything the run created.

use std::time::{Duration, Instant};

use eventbank_runtime::kafka::{KafkaSettings, ensure_system_topics};
use futures::StreamExt;
use indicatif::ProgressBar;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Message, Offset, TopicPartitionList};

const TIMEOUT: Duration = Duration::from_secs(30);

/// Creates every system topic under `kafka`'s prefix (what the services do
/// at start), so a backlog can be written before any service runs.
pub async fn create_system_topics(kafka: &KafkaSettings) -> anyhow::Result<()> {
    ensure_system_topics(kafka, TIMEOUT).await?;
    Ok(())
}

/// Creates a plain topic (for the raw ceiling).
pub async fn create_topic(
    kafka: &KafkaSettings,
    name: &str,
    partitions: i32,
) -> anyhow::Result<()> {
    let admin = kafka.admin_client()?;
    let topic = NewTopic::new(
        name,
        partitions,
        TopicReplication::Fixed(i32::from(kafka.topics.replication_factor)),
    );
    for result in admin.create_topics([&topic], &admin_options()).await? {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => anyhow::bail!("creating topic {topic}: {code}"),
        }
    }
    Ok(())
}

/// Deletes every topic whose name starts with `prefix`; how many it deleted.
pub async fn delete_prefixed(kafka: &KafkaSettings, prefix: &str) -> anyhow::Result<usize> {
    let Some((admin, names)) = Listing::Topics.matching(kafka, prefix)? else {
        return Ok(0);
    };
    for result in admin
        .delete_topics(&as_strs(&names), &admin_options())
        .await?
    {
        if let Err((topic, code)) = result
            && code != RDKafkaErrorCode::UnknownTopicOrPartition
        {
            anyhow::bail!("deleting topic {topic}: {code}");
        }
    }
    Ok(names.len())
}

/// Deletes every consumer group whose name starts with `prefix`; how many.
pub async fn delete_groups_prefixed(kafka: &KafkaSettings, prefix: &str) -> anyhow::Result<usize> {
    let Some((admin, names)) = Listing::Groups.matching(kafka, prefix)? else {
        return Ok(0);
    };
    let deleted = admin
        .delete_groups(&as_strs(&names), &admin_options())
        .await?
        .into_iter()
        .filter(Result::is_ok)
        .count();
    Ok(deleted)
}

/// What a run deletes by its prefix.
#[derive(Debug, Clone, Copy)]
enum Listing {
    Topics,
    Groups,
}

impl Listing {
    /// The names on the cluster that start with `prefix`, with an admin
    /// client to delete them; `None` when there are none. A short prefix is
    /// refused: it could match what is not the bench's own.
    fn matching(
        self,
        kafka: &KafkaSettings,
        prefix: &str,
    ) -> anyhow::Result<Option<(AdminClient<DefaultClientContext>, Vec<String>)>> {
        let what = match self {
            Self::Topics => "topics",
            Self::Groups => "groups",
        };
        anyhow::ensure!(
            prefix.len() >= 6,
            "refusing to delete {what} by the short prefix {prefix:?}"
        );
        let consumer: BaseConsumer = kafka.client_config().create()?;
        let mut names: Vec<String> = match self {
            Self::Topics => (consumer.fetch_metadata(None, TIMEOUT)?.topics().iter())
                .map(|t| t.name().to_owned())
                .collect(),
            Self::Groups => (consumer.fetch_group_list(None, TIMEOUT)?.groups().iter())
                .map(|g| g.name().to_owned())
                .collect(),
        };
        names.retain(|name| name.starts_with(prefix));
        if names.is_empty() {
            return Ok(None);
        }
        Ok(Some((kafka.admin_client()?, names)))
    }
}

fn as_strs(names: &[String]) -> Vec<&str> {
    names.iter().map(String::as_str).collect()
}

fn admin_options() -> AdminOptions {
    AdminOptions::new().operation_timeout(Some(TIMEOUT))
}

/// An idempotent, `acks=all`, lz4 producer: the services' own settings.
pub fn producer(kafka: &KafkaSettings) -> anyhow::Result<FutureProducer> {
    Ok(kafka.producer()?)
}

/// Produces every `(key, value)` to `topic` with `in_flight` sends
/// outstanding, and waits until all are acknowledged.
pub async fn produce(
    producer: &FutureProducer,
    topic: &str,
    records: &[(Vec<u8>, Vec<u8>)],
    in_flight: usize,
    progress: Option<&ProgressBar>,
) -> anyhow::Result<()> {
    let mut sends = futures::stream::iter(records)
        .map(|(key, value)| async move {
            producer
                .send(
                    FutureRecord::to(topic).key(key).payload(value),
                    Duration::from_secs(60),
                )
                .await
                .map(drop)
                .map_err(|(err, _)| err)
        })
        .buffer_unordered(in_flight.max(1));
    while let Some(sent) = sends.next().await {
        sent?;
        if let Some(progress) = progress {
            progress.inc(1);
        }
    }
    producer.flush(TIMEOUT)?;
    Ok(())
}

/// What reading a topic to its end found.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    pub records: u64,
    /// Key and value bytes of the records read.
    pub bytes: u64,
    pub elapsed: Duration,
    /// The first values read, as many as asked for.
    pub sample: Vec<Vec<u8>>,
}

/// Reads every committed record of `topics` from offset zero to the end of
/// each partition (`read_committed`, so the end is the last stable offset),
/// keeping the first `sample` values. No consumer group offsets are used or
/// committed. Also the "raw consume with the services' client" figure.
pub fn scan(kafka: &KafkaSettings, topics: &[String], sample: usize) -> anyhow::Result<Scan> {
    let mut config = kafka.consumer_config(&format!(
        "{}bench-scan-{}",
        kafka.topic_prefix,
        uuid::Uuid::new_v4()
    ));
    config
        .set("enable.partition.eof", "true")
        .set("fetch.wait.max.ms", "100");
    let consumer: BaseConsumer = config.create()?;
    let mut assignment = TopicPartitionList::new();
    for topic in topics {
        let metadata = consumer.fetch_metadata(Some(topic), TIMEOUT)?;
        for t in metadata.topics() {
            for p in t.partitions() {
                let (low, high) = consumer.fetch_watermarks(topic, p.id(), TIMEOUT)?;
                if high > low {
                    assignment.add_partition_offset(topic, p.id(), Offset::Beginning)?;
                }
            }
        }
    }
    let mut open = assignment.count();
    let mut found = Scan::default();
    if open == 0 {
        return Ok(found);
    }
    consumer.assign(&assignment)?;
    let started = Instant::now();
    let mut idle_since = Instant::now();
    while open > 0 {
        match consumer.poll(Duration::from_millis(500)) {
            Some(Ok(message)) => {
                idle_since = Instant::now();
                found.records += 1;
                let value = message.payload().unwrap_or_default();
                found.bytes +=
                    u64::try_from(value.len() + message.key().map_or(0, <[u8]>::len)).unwrap_or(0);
                if found.sample.len() < sample {
                    found.sample.push(value.to_vec());
                }
            }
            Some(Err(KafkaError::PartitionEOF(_))) => open -= 1,
            Some(Err(err)) => return Err(err.into()),
            None => {
                anyhow::ensure!(
                    idle_since.elapsed() < Duration::from_secs(60),
                    "reading {topics:?}: nothing for 60 s with {open} partitions unfinished"
                );
            }
        }
    }
    found.elapsed = started.elapsed();
    Ok(found)
}
