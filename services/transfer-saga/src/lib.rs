//! transfer-saga: runs every transfer to its end — completed, or failed and
//! refunded — exactly once, with retries and a deadline.
//!
//! Two transactional loops in one binary:
//! - the [`router`] copies each `TransferDebited` (from `account-events`) and
//!   each answer to a credit or refund the saga issued (from
//!   `command-results`) into the `transfer-saga-inbox`, keyed by transfer id;
//! - the [`saga`] reads the inbox, keeps each transfer's state in the
//!   compacted `transfer-state` (co-partitioned with the inbox, restored on
//!   assignment), and emits `CreditForTransfer` / `RefundTransfer` commands
//!   and `TransferCompleted` / `TransferFailed` events, all in one Kafka
//!   transaction with its state and offsets.
//!
//! The rules are pure functions in [`domain`]. A library with a thin `main`:
//! [`App::build`] connects and binds, [`App::run`] serves until the shutdown
//! token is cancelled.

pub mod domain;
pub mod inbox;
mod kafka_access;
mod metrics;
pub mod router;
pub mod saga;
mod settings;

use std::net::SocketAddr;
use std::time::Duration;

use eventbank_events::TopicKind;
use eventbank_runtime::http::HttpServer;
use eventbank_runtime::http::openapi::OpenApiRouter;
use eventbank_runtime::kafka::transactional::{
    LoopConfig, LoopError, LoopMetrics, Processor, spawn_loop,
};
use eventbank_runtime::kafka::transactional_id;
use eventbank_runtime::service::{self, CommonSettings, Service};
use eventbank_runtime::supervisor::Supervisor;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use settings::*;

use crate::domain::Timing;
use crate::metrics::SagaMetrics;
use crate::saga::{SagaProcessor, SagaTopics};

pub(crate) const ROUTER: &str = "saga-router";
pub(crate) const SAGA: &str = "saga";

#[derive(Debug)]
pub struct App {
    settings: Settings,
    http: HttpServer,
}

impl App {
    fn loop_config(&self, role: &str, group: &str, inputs: &[TopicKind]) -> LoopConfig {
        let kafka = &self.settings.kafka;
        let saga = &self.settings.saga;
        let topics = kafka.topics();
        let transactional_id = transactional_id(kafka, role, &self.settings.instance);
        LoopConfig {
            name: role.to_owned(),
            input_topics: inputs.iter().map(|kind| topics.name(*kind)).collect(),
            group_id: format!("{}{group}", kafka.topic_prefix),
            group_instance_id: saga.static_membership.then(|| transactional_id.clone()),
            transactional_id,
            transactional_producers: kafka.transactional_producers,
            max_batch: saga.max_batch,
            max_batch_wait: Duration::from_millis(saga.max_batch_wait_ms),
            call_timeout: Duration::from_secs(30),
            tick_interval: None,
        }
    }

    fn spawn<P: Processor>(
        &self,
        config: LoopConfig,
        processor: P,
        shutdown: CancellationToken,
    ) -> JoinHandle<Result<(), LoopError>> {
        let name = config.name.clone();
        spawn_loop(
            self.settings.kafka.clone(),
            config,
            processor,
            LoopMetrics::register(&self.http.ops.metrics, &name),
            self.http.ops.readiness.register(name),
            shutdown,
        )
    }
}

impl Service for App {
    const NAME: &'static str = "transfer-saga";
    type Settings = Settings;

    fn kafka_access(settings: &Settings) -> eventbank_runtime::kafka::access::KafkaAccess {
        kafka_access::kafka_access(settings)
    }

    fn http_addr(&self) -> std::io::Result<SocketAddr> {
        self.http.local_addr()
    }

    async fn build(settings: Settings) -> anyhow::Result<Self> {
        let http = service::prepare::<Self>(&settings, env!("CARGO_PKG_VERSION")).await?;
        Ok(Self { settings, http })
    }

    async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        // Stop on request, or as soon as either loop ends: a dead loop must
        // take the instance down so the orchestrator restarts it. On a
        // requested stop each loop finishes the batch in hand first.
        let grace = self.settings.shutdown_grace();
        let mut supervisor = Supervisor::new(CancellationToken::new(), grace);
        let saga_settings = &self.settings.saga;
        let router = self.spawn(
            self.loop_config(
                ROUTER,
                &saga_settings.router_consumer_group,
                &[TopicKind::AccountEvents, TopicKind::CommandResults],
            ),
            router::Router::new(self.settings.kafka.topics()),
            supervisor.task_shutdown(),
        );
        let processor = SagaProcessor::new(
            SagaTopics::new(&self.settings.kafka.topics()),
            Timing::from_settings(
                saga_settings.retry_after_ms,
                saga_settings.credit_deadline_ms,
                saga_settings.finished_retention_secs,
            ),
            self.settings.kafka.restore_limit(),
            SagaMetrics::register(&self.http.ops.metrics),
        );
        let saga = self.spawn(
            LoopConfig {
                tick_interval: Some(Duration::from_millis(saga_settings.tick_interval_ms)),
                ..self.loop_config(
                    SAGA,
                    &saga_settings.consumer_group,
                    &[TopicKind::TransferSagaInbox],
                )
            },
            processor,
            supervisor.task_shutdown(),
        );
        supervisor.watch(ROUTER, router);
        supervisor.watch(SAGA, saga);
        // Ops only: no API of its own, so its document lists the ops endpoints.
        let http = self
            .http
            .serve(OpenApiRouter::new(), supervisor.task_shutdown());
        supervisor.spawn("http", http);
        supervisor.run(&shutdown).await
    }
}
