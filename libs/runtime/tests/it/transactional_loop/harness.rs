//! A numbering loop on its own topics, with what the tests need to start it,
//! feed it and read what it wrote.

use std::collections::HashMap;
use std::time::Duration;

use eventbank_events::TopicKind;
use eventbank_runtime::http::{MetricsRegistry, Readiness};
use eventbank_runtime::kafka::transactional::{LoopConfig, LoopMetrics, spawn_loop};
use eventbank_runtime::kafka::{KafkaSettings, OwnedRecord, create_system_topics, read_partition};
use eventbank_testkit::{Isolation, RecordWriter, TestEnv, eventually};
use tokio_util::sync::CancellationToken;

use super::numbering::{Faults, Numbering};

pub(super) const TIMEOUT: Duration = Duration::from_secs(30);
pub(super) const STALL: Duration = Duration::from_secs(15);
/// The topic the loop reads.
const INPUT: TopicKind = TopicKind::AccountCommands;

pub(super) struct Harness {
    pub(super) settings: KafkaSettings,
    pub(super) config: LoopConfig,
    pub(super) output: String,
    state: String,
    pub(super) dlq: String,
}

impl Harness {
    pub(super) async fn new(isolation: &Isolation) -> Self {
        Self::on(
            TestEnv::get().kafka_settings(&isolation.topic_prefix()),
            isolation,
        )
        .await
    }

    /// A harness on the cluster `settings` point at (a private one, say).
    pub(super) async fn on(settings: KafkaSettings, isolation: &Isolation) -> Self {
        create_system_topics(&settings, TIMEOUT)
            .await
            .expect("topics");
        let topics = settings.topics();
        let config = LoopConfig {
            name: "numbering".into(),
            input_topics: vec![topics.name(INPUT)],
            group_id: isolation.consumer_group("numbering"),
            transactional_id: format!("{}-numbering", isolation.run_id),
            transactional_producers: settings.transactional_producers,
            group_instance_id: None,
            max_batch: 50,
            max_batch_wait: Duration::from_millis(10),
            call_timeout: TIMEOUT,
            tick_interval: None,
        };
        Self {
            output: topics.name(TopicKind::AccountEvents),
            state: topics.name(TopicKind::AccountState),
            settings,
            config,
            dlq: topics.dlq(INPUT),
        }
    }

    pub(super) fn start(
        &self,
    ) -> (
        CancellationToken,
        tokio::task::JoinHandle<Result<(), eventbank_runtime::kafka::transactional::LoopError>>,
    ) {
        self.start_with(self.config.clone(), &Readiness::new())
    }

    pub(super) fn start_with(
        &self,
        config: LoopConfig,
        readiness: &Readiness,
    ) -> (
        CancellationToken,
        tokio::task::JoinHandle<Result<(), eventbank_runtime::kafka::transactional::LoopError>>,
    ) {
        let registry = MetricsRegistry::new("test", "0");
        self.start_stalling(
            self.settings.clone(),
            config,
            readiness,
            &registry,
            Faults::default(),
        )
    }

    /// Another member of the loop's group, with readiness and metrics of its
    /// own.
    pub(super) fn start_member(
        &self,
        settings: KafkaSettings,
        config: LoopConfig,
        faults: Faults,
    ) -> (
        CancellationToken,
        tokio::task::JoinHandle<Result<(), eventbank_runtime::kafka::transactional::LoopError>>,
    ) {
        self.start_stalling(
            settings,
            config,
            &Readiness::new(),
            &MetricsRegistry::new("test", "0"),
            faults,
        )
    }

    pub(super) fn start_stalling(
        &self,
        settings: KafkaSettings,
        config: LoopConfig,
        readiness: &Readiness,
        registry: &MetricsRegistry,
        faults: Faults,
    ) -> (
        CancellationToken,
        tokio::task::JoinHandle<Result<(), eventbank_runtime::kafka::transactional::LoopError>>,
    ) {
        let shutdown = CancellationToken::new();
        let processor = Numbering {
            output: self.output.clone(),
            state: self.state.clone(),
            committed: HashMap::new(),
            staged: HashMap::new(),
            faults,
        };
        let metrics = LoopMetrics::register(registry, "numbering");
        let handle = spawn_loop(
            settings,
            config,
            processor,
            metrics,
            readiness.register("loop"),
            shutdown.clone(),
        );
        (shutdown, handle)
    }

    pub(super) async fn produce(&self, values: &[String]) {
        let writer = RecordWriter::new(&self.settings);
        for value in values {
            writer.raw_to(INPUT, Some(0), b"k", value.as_bytes()).await;
        }
    }

    /// Waits, for at most `limit`, until the loop has written at least
    /// `count` outputs.
    pub(super) async fn wait_for_outputs(&self, what: &str, count: usize, limit: Duration) {
        eventually(what, limit, || async {
            (self.read(&self.output).await.len() >= count).then_some(())
        })
        .await;
    }

    /// Runs the loop until it has written `count` outputs and for `quiet`
    /// longer, then stops it; it must stop cleanly.
    pub(super) async fn run_until_outputs(&self, what: &str, count: usize, quiet: Duration) {
        let (shutdown, handle) = self.start();
        self.wait_for_outputs(what, count, TIMEOUT).await;
        tokio::time::sleep(quiet).await;
        shutdown.cancel();
        handle.await.expect("join").expect("loop stopped cleanly");
    }

    /// The harness's settings with a group that notices a stalled or dead
    /// member within seconds rather than minutes.
    pub(super) fn quickly_evicting_settings(&self) -> KafkaSettings {
        let mut settings = self.settings.clone();
        settings
            .client
            .insert("session.timeout.ms".into(), "6000".into());
        settings
            .client
            .insert("max.poll.interval.ms".into(), "7000".into());
        settings
    }

    pub(super) async fn read(&self, topic: &str) -> Vec<OwnedRecord> {
        let (settings, topic) = (self.settings.clone(), topic.to_owned());
        let mut all = Vec::new();
        for partition in 0..3 {
            let (settings, topic) = (settings.clone(), topic.clone());
            all.extend(
                tokio::task::spawn_blocking(move || {
                    read_partition(&settings, &topic, partition, TIMEOUT)
                })
                .await
                .expect("join")
                .expect("read"),
            );
        }
        all
    }
}

pub(super) fn payloads(records: &[OwnedRecord]) -> Vec<String> {
    records
        .iter()
        .map(|r| String::from_utf8_lossy(r.payload.as_deref().unwrap_or_default()).into_owned())
        .collect()
}

/// The value of the counter `name` in a registry's text.
pub(super) fn counter(registry: &MetricsRegistry, name: &str) -> u64 {
    registry
        .encode()
        .lines()
        .filter(|line| line.starts_with(name))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|value| value as u64)
        .sum()
}

/// Runs `f` when dropped.
pub(super) fn scopeguard(f: impl FnOnce()) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}
