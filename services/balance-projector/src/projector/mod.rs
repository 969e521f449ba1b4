//! The consumer: `account-events` and `transfer-events` → Redis, on the
//! runtime's [`SinkConsumer`]: each batch is decoded as it arrives, applied
//! to Redis in one pipelined round trip, the undecodable dead-lettered, and
//! only then are its offsets committed. Applying is idempotent, so a batch
//! read again after a crash before its commit changes nothing.

mod progress;
mod sink;

use std::time::Duration;

use eventbank_events::TopicKind;
use eventbank_runtime::kafka::sink::{Offsets, SinkConsumer, SinkOptions, sink_consumer_config};
use eventbank_runtime::kafka::{BatchLimits, DeadLetterer, GroupContext, KafkaSettings};
use rdkafka::consumer::StreamConsumer;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub use progress::{Progress, ServingReadiness};

use crate::metrics::ProjectorMetrics;
use crate::settings::ProjectorSettings;
use crate::store::Store;

const RETRY_BACKOFF: Duration = Duration::from_millis(500);

/// One generation's projector: its consumer, what it writes and what it reports.
pub struct Projector {
    consumer: SinkConsumer<GroupContext>,
    sink: sink::RedisSink,
    observer: progress::ProgressObserver,
}

eventbank_runtime::debug_fields!(Projector { consumer });

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
        let generation = store.generation();
        let group = consumer_group(kafka, settings, generation);
        let config = sink_consumer_config(kafka, &group, static_member);
        let consumer: StreamConsumer<GroupContext> =
            config.create_with_context(GroupContext::for_config(&config))?;
        let topics = kafka.topics();
        let account_topic = topics.name(TopicKind::AccountEvents);
        let transfer_topic = topics.name(TopicKind::TransferEvents);
        let options = SinkOptions {
            group: group.clone(),
            topics: vec![account_topic.clone(), transfer_topic],
            limits: BatchLimits {
                max: settings.max_batch,
                wait: Duration::from_millis(settings.max_batch_wait_ms),
            },
            offsets: Offsets::Kafka,
            overlap: true,
            lag_interval: Duration::from_millis(settings.lag_interval_ms.max(50)),
            retry_backoff: RETRY_BACKOFF,
        };
        let readiness = ready.as_ref().map(ServingReadiness::check);
        let dead_letters =
            DeadLetterer::new(kafka.producer()?, format!("balance-projector/{group}"));
        Ok(Self {
            consumer: SinkConsumer::new(consumer, options, readiness),
            sink: sink::RedisSink::new(store, metrics.clone(), dead_letters, account_topic),
            observer: progress::ProgressObserver::new(metrics, generation, ready),
        })
    }

    /// Reports how far the projector has caught up.
    pub fn progress(&self) -> watch::Receiver<Progress> {
        self.observer.subscribe()
    }

    /// Consumes until `shutdown`. A batch in flight when shutdown comes is
    /// either finished and committed or left uncommitted (and re-read later).
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        Ok(self
            .consumer
            .run(self.sink, self.observer, shutdown)
            .await?)
    }
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
