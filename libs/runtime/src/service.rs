//! The shape every service binary shares: load settings, set up logging, print
//! the effective configuration, build the app, run it until SIGTERM, drain.
//!
//! A service is a library implementing [`Service`]; its `main` is one line, and
//! tests build the same app on port 0 and cancel it instead of signalling.

use std::future::Future;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use crate::config::{self, Validate};
use crate::kafka::{KafkaSettings, ensure_system_topics};
use crate::telemetry::{self, TelemetrySettings};

pub trait Service: Sized + Send {
    /// Name used in logs, metrics and transactional ids.
    const NAME: &'static str;
    type Settings: Serialize + DeserializeOwned + Default + Validate + Send;

    fn telemetry(settings: &Self::Settings) -> &TelemetrySettings;
    /// Address the ops endpoints listen on (for the `healthcheck` subcommand).
    fn http_addr(settings: &Self::Settings) -> SocketAddr;

    /// The Kafka cluster and topic layout (for the `ensure-topics` subcommand).
    fn kafka(settings: &Self::Settings) -> &KafkaSettings;

    /// Connects and binds everything; fails fast on a bad dependency.
    fn build(settings: Self::Settings) -> impl Future<Output = anyhow::Result<Self>> + Send;

    /// Runs until `shutdown` is cancelled, then finishes or aborts open work.
    fn run(self, shutdown: CancellationToken) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// The whole of a service's `main`.
///
/// Subcommands:
/// - `<binary> healthcheck` asks the running instance's `/healthz` and exits
///   0/1: a container image without a shell or curl needs the binary itself
///   for its `HEALTHCHECK`.
/// - `<binary> ensure-topics` creates every missing topic with the layout the
///   services use (the code they run at start) and exits: what a deployment's
///   topic job runs, so it can never drift from the services' own layout.
pub async fn main<S: Service>() -> anyhow::Result<()> {
    let settings: S::Settings = config::load()?;
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("healthcheck") => return healthcheck(S::http_addr(&settings)),
        Some("ensure-topics") => {
            telemetry::init(S::telemetry(&settings));
            ensure_system_topics(S::kafka(&settings), TOPIC_JOB_TIMEOUT).await?;
            tracing::info!(service = S::NAME, "topics ready");
            return Ok(());
        }
        Some(other) => {
            anyhow::bail!("unknown subcommand {other:?}; known: healthcheck, ensure-topics")
        }
    }
    telemetry::init(S::telemetry(&settings));
    tracing::info!(
        service = S::NAME,
        version = env!("CARGO_PKG_VERSION"),
        config = %config::redacted(&settings),
        "effective configuration"
    );
    let app = S::build(settings).await?;
    let shutdown = crate::shutdown::on_signal();
    app.run(shutdown).await?;
    tracing::info!(service = S::NAME, "stopped");
    Ok(())
}

/// How long `ensure-topics` waits for the cluster before failing (the job
/// retries).
const TOPIC_JOB_TIMEOUT: Duration = Duration::from_secs(60);

fn healthcheck(addr: SocketAddr) -> anyhow::Result<()> {
    let target = if addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    };
    let mut stream = TcpStream::connect_timeout(&target, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    if response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200") {
        Ok(())
    } else {
        anyhow::bail!(
            "unhealthy: {}",
            response.lines().next().unwrap_or("no response")
        )
    }
}

/// The instance name used for stable transactional ids: the pod name on
/// Kubernetes (`HOSTNAME`), else `local`.
pub fn default_instance() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| "local".to_owned())
}
