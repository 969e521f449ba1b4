//! The audit consumer: `account-events`, `transfer-events` and
//! `command-results` → PostgreSQL, exactly once, on the runtime's
//! [`SinkConsumer`].
//!
//! Each batch is one **database transaction** ([`sink`]): lock the batch's
//! stored offsets, drop records below them (already recorded, e.g. by
//! another instance during a rebalance), dead-letter the undecodable
//! (waiting for each delivery), append the rest to their chains, move the
//! offsets past the batch, commit. A crash before the commit leaves rows and
//! offsets as they were; after it, both moved together. Offsets are never
//! committed to Kafka; assignment starts from the stored ones ([`assign`]).

mod assign;
mod gaps;
mod lag;
mod sink;

use std::time::Duration;

use eventbank_events::TopicKind;
use eventbank_runtime::http::ReadinessCheck;
use eventbank_runtime::kafka::sink::{Offsets, SinkConsumer, SinkOptions, sink_consumer_config};
use eventbank_runtime::kafka::{BatchLimits, DeadLetterer, KafkaSettings, transactional_id};
use rdkafka::consumer::StreamConsumer;
use rdkafka::error::KafkaError;
use tokio_util::sync::CancellationToken;

pub use assign::KnownOffsets;
use assign::{SeekOnAssign, StartAtStored};

use crate::db::Db;
use crate::settings::AuditSettings;
use crate::watch::Instruments;

const RETRY_BACKOFF: Duration = Duration::from_millis(500);

/// The topics the audit log reads.
pub const SOURCES: [TopicKind; 3] = [
    TopicKind::AccountEvents,
    TopicKind::TransferEvents,
    TopicKind::CommandResults,
];

/// The consumer loop, what it writes and what it reports.
pub struct AuditConsumer {
    consumer: SinkConsumer<SeekOnAssign>,
    sink: sink::PostgresSink,
    observer: lag::GapObserver,
    ready: ReadinessCheck,
}

eventbank_runtime::debug_fields!(AuditConsumer { consumer });

impl AuditConsumer {
    /// A consumer starting from `offsets` (the stored ones).
    pub fn new(
        kafka: &KafkaSettings,
        settings: &AuditSettings,
        instance: &str,
        db: Db,
        offsets: KnownOffsets,
        instruments: Instruments,
        ready: ReadinessCheck,
    ) -> Result<Self, KafkaError> {
        let group = format!("{}{}", kafka.topic_prefix, settings.consumer_group);
        let member = settings
            .static_membership
            .then(|| transactional_id(kafka, "audit-log", instance));
        let config = sink_consumer_config(kafka, &group, member.as_deref());
        let consumer: StreamConsumer<SeekOnAssign> = config.create_with_context(
            SeekOnAssign::with_on_assign(&config, StartAtStored(offsets.clone())),
        )?;
        let topics = kafka.topics();
        let sources: Vec<(String, TopicKind)> =
            SOURCES.iter().map(|k| (topics.name(*k), *k)).collect();
        let options = SinkOptions {
            group: group.clone(),
            topics: sources.iter().map(|(name, _)| name.clone()).collect(),
            limits: BatchLimits {
                max: settings.max_batch,
                wait: Duration::from_millis(settings.max_batch_wait_ms),
            },
            offsets: Offsets::InSink(offsets.snapshot().into_iter().collect()),
            // The rebalance callback marks newly assigned partitions unread;
            // a batch written meanwhile would mark them read again.
            overlap: false,
            lag_interval: Duration::from_millis(settings.lag_interval_ms.max(50)),
            retry_backoff: RETRY_BACKOFF,
        };
        let consumer = SinkConsumer::new(consumer, options, Some(ready.clone()));
        let dead_letters = DeadLetterer::new(kafka.producer()?, format!("audit-log/{group}"));
        let sink = sink::PostgresSink {
            consumer: consumer.consumer(),
            db: db.clone(),
            client: tokio::sync::Mutex::new(None),
            sources: sources.into_iter().collect(),
            dead_letters,
            metrics: instruments.metrics.clone(),
            calls: instruments.calls,
            ready: ready.clone(),
            offsets,
        };
        Ok(Self {
            consumer,
            sink,
            observer: lag::GapObserver {
                db,
                metrics: instruments.metrics,
            },
            ready,
        })
    }

    /// Consumes until `shutdown`; a batch in flight then is either committed
    /// or rolled back (and read again by whoever owns the partition next).
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        self.ready.set_ready();
        Ok(self
            .consumer
            .run(self.sink, self.observer, shutdown)
            .await?)
    }
}
