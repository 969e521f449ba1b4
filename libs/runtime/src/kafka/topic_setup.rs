//! Creating the system's topics idempotently at start (and in the deployment's
//! topic job): every missing topic with its layout, existing ones checked for
//! the partition counts co-partitioning depends on.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use eventbank_events::TopicSpec;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum TopicSetupError {
    #[error("kafka admin request failed: {0}")]
    Kafka(#[from] KafkaError),
    #[error(transparent)]
    Connection(#[from] super::ConnectionError),
    #[error("could not create topic {topic}: {code}")]
    Create {
        topic: String,
        code: RDKafkaErrorCode,
    },
    #[error("topic {topic} did not appear in cluster metadata within {waited:?}")]
    NotVisible { topic: String, waited: Duration },
    #[error(
        "co-partitioned topics disagree on partition count ({counts}); commands, events and \
         state of one account must live on the same partition number"
    )]
    CoPartitioning { counts: String },
}

/// Creates every topic in `specs` that does not exist yet (an existing topic is
/// left as it is), waits until all are visible, and checks that each group in
/// `co_partitioned` has one partition count. Safe to call from every instance
/// at every start.
pub async fn ensure_topics(
    admin: &AdminClient<DefaultClientContext>,
    specs: &[TopicSpec],
    co_partitioned: &[Vec<String>],
    timeout: Duration,
) -> Result<BTreeMap<String, i32>, TopicSetupError> {
    let new_topics: Vec<NewTopic<'_>> = specs
        .iter()
        .map(|spec| {
            spec.configs.iter().fold(
                NewTopic::new(
                    &spec.name,
                    spec.partitions,
                    TopicReplication::Fixed(i32::from(spec.replication_factor)),
                ),
                |topic, (key, value)| topic.set(key, value),
            )
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(timeout));
    for result in admin.create_topics(&new_topics, &options).await? {
        match result {
            Ok(topic) => tracing::info!(%topic, "created topic"),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => return Err(TopicSetupError::Create { topic, code }),
        }
    }

    let mut partitions = BTreeMap::new();
    for spec in specs {
        let count = wait_for_partitions(admin, &spec.name, timeout).await?;
        if count != spec.partitions {
            tracing::warn!(
                topic = %spec.name,
                existing = count,
                wanted = spec.partitions,
                "existing topic has a different partition count than configured; keeping it"
            );
        }
        partitions.insert(spec.name.clone(), count);
    }
    for group in co_partitioned {
        let counts: Vec<(String, i32)> = group
            .iter()
            .filter_map(|topic| partitions.get(topic).map(|count| (topic.clone(), *count)))
            .collect();
        if counts.windows(2).any(|pair| pair[0].1 != pair[1].1) {
            let counts = counts
                .iter()
                .map(|(topic, count)| format!("{topic}={count}"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(TopicSetupError::CoPartitioning { counts });
        }
    }
    Ok(partitions)
}

/// What every service does at start: unless topic creation is switched off
/// (a platform team owns the topics), create whatever this system's topics
/// are missing and check co-partitioning.
pub async fn ensure_system_topics(
    settings: &super::KafkaSettings,
    timeout: Duration,
) -> Result<(), TopicSetupError> {
    if !settings.topics.create {
        // Nothing to create, and a missing topic or an absent cluster fails
        // readiness later; but refused credentials or certificates never
        // heal, so they stop the service now, saying why.
        return match settings
            .check_connection(timeout.min(NO_CREATE_CHECK))
            .await
        {
            Ok(_) => Ok(()),
            Err(err @ super::ConnectionError::Unreachable { .. }) => {
                tracing::warn!(error = %err, "Kafka not reachable at start; readiness waits for it");
                Ok(())
            }
            Err(err) => Err(err.into()),
        };
    }
    create_system_topics(settings, timeout).await.map(drop)
}

/// How long a service that creates no topics waits for the cluster's first
/// answer before it starts anyway (unready).
const NO_CREATE_CHECK: Duration = Duration::from_secs(10);

/// Creates whatever of this system's topics `settings` name are missing
/// and checks co-partitioning, whatever `topics.create` says; returns each
/// topic's partition count.
pub async fn create_system_topics(
    settings: &super::KafkaSettings,
    timeout: Duration,
) -> Result<BTreeMap<String, i32>, TopicSetupError> {
    // A refused password or certificate is named here, rather than surfacing
    // as the admin request's timeout.
    settings.check_connection(timeout).await?;
    let admin = settings.admin_client()?;
    let topics = settings.topics();
    ensure_topics(
        &admin,
        &topics.specs(&settings.layout()),
        &topics.co_partitioned_groups(),
        timeout,
    )
    .await
}

/// Metadata is eventually consistent across brokers: a topic just created may
/// not be listed yet.
async fn wait_for_partitions(
    admin: &AdminClient<DefaultClientContext>,
    topic: &str,
    timeout: Duration,
) -> Result<i32, TopicSetupError> {
    let started = Instant::now();
    loop {
        let metadata = admin
            .inner()
            .fetch_metadata(Some(topic), Duration::from_secs(5))?;
        let found = metadata
            .topics()
            .iter()
            .find(|meta| meta.name() == topic && meta.error().is_none())
            .map(|meta| meta.partitions().len());
        if let Some(count) = found.filter(|count| *count > 0) {
            return Ok(i32::try_from(count).unwrap_or(i32::MAX));
        }
        if started.elapsed() > timeout {
            return Err(TopicSetupError::NotVisible {
                topic: topic.to_owned(),
                waited: timeout,
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
