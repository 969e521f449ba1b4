//! balance-projector: Projects `account-events` and `transfer-events` into the Redis read model and serves queries (the Q of CQRS).
//!
//! A library with a thin `main`: [`App::build`] connects and binds, [`App::run`]
//! serves until the shutdown token is cancelled.

pub mod api;
mod api_doc;
mod apply;
mod kafka_access;
mod metrics;
pub mod projector;
pub mod rebuild;
mod settings;
pub mod store;

use std::net::SocketAddr;
use std::time::Duration;

use eventbank_runtime::http::{HttpServer, StoreCalls};
use eventbank_runtime::kafka::transactional_id;
use eventbank_runtime::service::{self, CommonSettings, Service};
use eventbank_runtime::supervisor::Supervisor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use settings::*;

use crate::api::ApiState;
use crate::metrics::ProjectorMetrics;
use crate::projector::ServingReadiness;
use crate::rebuild::Projectors;
use crate::store::Store;

#[derive(Debug)]
pub struct App {
    http: HttpServer,
    store: Store,
    projectors: Projectors,
    readiness: ServingReadiness,
    read_wait: Duration,
    shutdown_grace: Duration,
}

impl App {
    /// The read model this app writes (for tests and tools).
    pub fn store(&self) -> &Store {
        &self.store
    }
}

impl Service for App {
    const NAME: &'static str = "balance-projector";
    type Settings = Settings;

    fn kafka_access(settings: &Settings) -> eventbank_runtime::kafka::access::KafkaAccess {
        kafka_access::kafka_access(settings)
    }

    fn http_addr(&self) -> std::io::Result<SocketAddr> {
        self.http.local_addr()
    }

    async fn build(settings: Settings) -> anyhow::Result<Self> {
        let http = service::prepare::<Self>(&settings, env!("CARGO_PKG_VERSION")).await?;
        let store = Store::open(&settings.redis)
            .await?
            .timed_by(StoreCalls::register(&http.ops.metrics, "redis"));
        let metrics = ProjectorMetrics::register(&http.ops.metrics);
        let readiness = ServingReadiness::new(http.ops.readiness.register("projector"));
        let projectors = Projectors {
            static_member: settings.projector.static_membership.then(|| {
                transactional_id(&settings.kafka, "balance-projector", &settings.instance)
            }),
            kafka: settings.kafka.clone(),
            settings: settings.projector.clone(),
            store: store.clone(),
            metrics,
            tracker: TaskTracker::new(),
            shutdown: CancellationToken::new(),
        };
        Ok(Self {
            http,
            store,
            projectors,
            readiness,
            read_wait: Duration::from_millis(settings.projector.read_wait_ms),
            shutdown_grace: settings.shutdown_grace(),
        })
    }

    async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let projectors = self.projectors;
        let api = api::router(
            ApiState {
                store: self.store.clone(),
                read_wait: self.read_wait,
                projectors: projectors.clone(),
            },
            self.http.auth(),
        );
        // The projector stops by itself only on an error; then the whole
        // service stops (and is restarted), rather than serving a frozen view.
        let mut supervisor = Supervisor::new(projectors.shutdown.clone(), self.shutdown_grace);
        supervisor.spawn("projector", projectors.clone().serve(self.readiness));
        supervisor.spawn("http", self.http.serve(api, supervisor.task_shutdown()));
        let supervised = supervisor.run(&shutdown).await;
        // Rebuilds in flight get the same grace.
        eventbank_runtime::shutdown::drain(&projectors.tracker, self.shutdown_grace).await;
        supervised
    }
}
