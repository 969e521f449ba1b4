//! account-command: accepts commands over HTTP and turns them into events,
//! exactly once. Its processor is the single writer of `account-events`.
//!
//! Two parts in one binary, each switchable by configuration so they scale
//! separately: the HTTP command API ([`api`]) puts commands on
//! `account-commands` and waits for their results; the processor
//! ([`processor`]) decides them in Kafka transactions.
//!
//! A library with a thin `main`: [`App::build`] connects and binds, [`App::run`]
//! serves until the shutdown token is cancelled.

pub mod api;
pub mod domain;
mod kafka_access;
pub mod processor;
mod settings;

use std::net::SocketAddr;
use std::time::Duration;

use eventbank_events::TopicKind;
use eventbank_runtime::http::HttpServer;
use eventbank_runtime::kafka::transactional::{LoopConfig, LoopMetrics, spawn_loop};
use eventbank_runtime::kafka::transactional_id;
use eventbank_runtime::service::{self, CommonSettings, Service};
use eventbank_runtime::supervisor::Supervisor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use utoipa_axum::router::OpenApiRouter;

pub use settings::*;

use crate::api::Api;
use crate::processor::{CommandProcessor, ProcessorTopics};

#[derive(Debug)]
pub struct App {
    settings: Settings,
    http: HttpServer,
    api: Option<Api>,
    tracker: TaskTracker,
    /// What the API's background tasks, the processor and the HTTP server
    /// heed; cancelled when `run` is told to stop (see the supervisor).
    task_shutdown: CancellationToken,
}

impl App {
    fn loop_config(&self) -> LoopConfig {
        let topics = self.settings.kafka.topics();
        let commands = topics.name(TopicKind::AccountCommands);
        LoopConfig {
            name: "account-processor".to_owned(),
            input_topics: vec![commands.clone()],
            group_id: format!(
                "{}{}",
                self.settings.kafka.topic_prefix, self.settings.processor.consumer_group
            ),
            transactional_id: transactional_id(
                &self.settings.kafka,
                "account-processor",
                &self.settings.instance,
            ),
            group_instance_id: self.settings.processor.static_membership.then(|| {
                transactional_id(
                    &self.settings.kafka,
                    "account-processor",
                    &self.settings.instance,
                )
            }),
            transactional_producers: self.settings.kafka.transactional_producers,
            max_batch: self.settings.processor.max_batch,
            max_batch_wait: Duration::from_millis(self.settings.processor.max_batch_wait_ms),
            call_timeout: Duration::from_secs(30),
            // Tombstones expired command memory.
            tick_interval: Some(Duration::from_secs(1)),
        }
    }
}

impl Service for App {
    const NAME: &'static str = "account-command";
    type Settings = Settings;

    fn kafka_access(settings: &Settings) -> eventbank_runtime::kafka::access::KafkaAccess {
        kafka_access::kafka_access(settings)
    }

    fn http_addr(&self) -> std::io::Result<SocketAddr> {
        self.http.local_addr()
    }

    async fn build(settings: Settings) -> anyhow::Result<Self> {
        let http = service::prepare::<Self>(&settings, env!("CARGO_PKG_VERSION")).await?;
        let tracker = TaskTracker::new();
        let task_shutdown = CancellationToken::new();
        let api = if settings.api.enabled {
            Some(
                Api::start(
                    &settings,
                    &http.ops.metrics,
                    &http.ops.readiness,
                    &tracker,
                    task_shutdown.clone(),
                )
                .await?,
            )
        } else {
            None
        };
        Ok(Self {
            settings,
            http,
            api,
            tracker,
            task_shutdown,
        })
    }

    async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let processor = self.settings.processor.enabled.then(|| {
            let topics = ProcessorTopics::new(&self.settings.kafka.topics());
            let processor = CommandProcessor::new(
                topics,
                self.settings.limits.clone(),
                self.settings.processor.idempotency_window(),
                self.settings.kafka.restore_limit(),
            );
            spawn_loop(
                self.settings.kafka.clone(),
                self.loop_config(),
                processor,
                LoopMetrics::register(&self.http.ops.metrics, "account-processor"),
                self.http.ops.readiness.register("account-processor"),
                self.task_shutdown.clone(),
            )
        });
        let auth = self.http.auth();
        let router = self
            .api
            .as_ref()
            .map_or_else(OpenApiRouter::new, |api| api.router(auth));
        // A processor that dies takes the instance down so the orchestrator
        // restarts it; on a requested stop it finishes the batch in hand
        // (commit or abort) within the grace.
        let grace = self.settings.shutdown_grace();
        let mut supervisor = Supervisor::new(self.task_shutdown.clone(), grace);
        if let Some(processor) = processor {
            supervisor.watch("processor", processor);
        }
        supervisor.spawn("http", self.http.serve(router, supervisor.task_shutdown()));
        let supervised = supervisor.run(&shutdown).await;
        // Requests still waiting for their results get the same grace.
        eventbank_runtime::shutdown::drain(&self.tracker, grace).await;
        supervised
    }
}
