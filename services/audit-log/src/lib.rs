//! audit-log: records every event in a tamper-evident, hash-chained
//! PostgreSQL audit trail, and verifies and reconciles it.
//!
//! * [`consumer`]: `account-events`, `transfer-events` and the rejections on
//!   `command-results` → `audit_records`, exactly once (offsets stored in the
//!   same transaction as the rows).
//! * [`canonical`]: what each record's hash covers; [`chain`] recomputes the
//!   chains, [`reconcile`] the balances.
//! * [`db`]: connections and the embedded migrations (append-only trigger,
//!   grants); [`store`]: the SQL.
//! * [`api`]: `GET /audit/streams/{id}`, `/audit/verify`, `/audit/reconcile`.
//!
//! A library with a thin `main`: [`App::build`] connects, migrates and binds,
//! [`App::run`] serves until the shutdown token is cancelled.

pub mod api;
mod api_doc;
pub mod canonical;
pub mod chain;
pub mod consumer;
pub mod db;
pub mod entry;
mod kafka_access;
pub mod linking;
mod metrics;
pub mod reconcile;
pub mod record;
mod settings;
pub mod store;
mod watch;

use std::net::SocketAddr;
use std::time::Duration;

use eventbank_runtime::http::{HttpServer, ReadinessCheck, StoreCalls};
use eventbank_runtime::service::{self, CommonSettings, Service};
use eventbank_runtime::supervisor::Supervisor;
use tokio_util::sync::CancellationToken;

pub use settings::*;

use crate::api::ApiState;
use crate::consumer::{AuditConsumer, KnownOffsets};
use crate::db::Db;
use crate::metrics::AuditMetrics;
use crate::watch::{ChainWatch, Instruments};

/// How often `/readyz` re-checks the database.
const DB_CHECK_INTERVAL: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub struct App {
    http: HttpServer,
    db: Db,
    consumer: AuditConsumer,
    watch: ChainWatch,
    instruments: Instruments,
    db_ready: ReadinessCheck,
    shutdown_grace: Duration,
}

impl Service for App {
    const NAME: &'static str = "audit-log";
    type Settings = Settings;

    fn kafka_access(settings: &Settings) -> eventbank_runtime::kafka::access::KafkaAccess {
        kafka_access::kafka_access(settings)
    }

    fn http_addr(&self) -> std::io::Result<SocketAddr> {
        self.http.local_addr()
    }

    async fn build(settings: Settings) -> anyhow::Result<Self> {
        let http = service::prepare::<Self>(&settings, env!("CARGO_PKG_VERSION")).await?;
        let db = Db::new(&settings.postgres)?;
        let mut client = db.connect().await?;
        db::migrations::migrate(
            &mut client,
            &settings.postgres.schema,
            settings.postgres.app_role.as_deref(),
        )
        .await?;
        let offsets = store::load_offsets(&client).await?;
        let instruments = Instruments {
            metrics: AuditMetrics::register(&http.ops.metrics),
            calls: StoreCalls::register(&http.ops.metrics, "postgres"),
        };
        let consumer = AuditConsumer::new(
            &settings.kafka,
            &settings.audit,
            &settings.instance,
            db.clone(),
            KnownOffsets::new(offsets),
            instruments.clone(),
            http.ops.readiness.register("consumer"),
        )?;
        let db_ready = http.ops.readiness.register("postgres");
        let watch = ChainWatch {
            db: db.clone(),
            instruments: instruments.clone(),
            extent_every: Duration::from_millis(settings.audit.chain_extent_interval_ms),
            verify_every: (settings.audit.verify_interval_secs > 0)
                .then(|| Duration::from_secs(settings.audit.verify_interval_secs)),
        };
        Ok(Self {
            http,
            db,
            consumer,
            watch,
            instruments,
            db_ready,
            shutdown_grace: settings.shutdown_grace(),
        })
    }

    async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        // The consumer stops by itself only on an error; then the whole
        // service stops (and is restarted) rather than serve a trail that
        // silently stopped growing.
        let mut supervisor = Supervisor::new(CancellationToken::new(), self.shutdown_grace);
        supervisor.spawn("consumer", self.consumer.run(supervisor.task_shutdown()));
        let (db, ready, health_shutdown) =
            (self.db.clone(), self.db_ready, supervisor.task_shutdown());
        supervisor.spawn("postgres health", async move {
            check_db(db, ready, health_shutdown).await;
            Ok::<(), anyhow::Error>(())
        });
        supervisor.spawn("chain watch", self.watch.run(supervisor.task_shutdown()));
        let api = api::router(
            ApiState {
                db: self.db,
                instruments: self.instruments,
            },
            self.http.auth(),
        );
        supervisor.spawn("http", self.http.serve(api, supervisor.task_shutdown()));
        supervisor.run(&shutdown).await
    }
}

/// Keeps the `postgres` readiness check current.
async fn check_db(db: Db, ready: ReadinessCheck, shutdown: CancellationToken) {
    loop {
        match db.shared().await {
            Ok(client) => match client.simple_query("SELECT 1").await {
                Ok(_) => ready.set_ready(),
                Err(err) => ready.set_not_ready(format!("PostgreSQL: {err}")),
            },
            Err(err) => ready.set_not_ready(err.to_string()),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(DB_CHECK_INTERVAL) => {}
        }
    }
}
