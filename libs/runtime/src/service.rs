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
use crate::telemetry::{self, TelemetrySettings};

pub trait Service: Sized + Send {
    /// Name used in logs, metrics and transactional ids.
    const NAME: &'static str;
    type Settings: Serialize + DeserializeOwned + Default + Validate + Send;

    fn telemetry(settings: &Self::Settings) -> &TelemetrySettings;
    /// Address the ops endpoints listen on (for the `healthcheck` subcommand).
    fn http_addr(settings: &Self::Settings) -> SocketAddr;

    /// Connects and binds everything; fails fast on a bad dependency.
    fn build(settings: Self::Settings) -> impl Future<Output = anyhow::Result<Self>> + Send;

    /// Runs until `shutdown` is cancelled, then finishes or aborts open work.
    fn run(self, shutdown: CancellationToken) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// The whole of a service's `main`.
///
/// `<binary> healthcheck` asks the running instance's `/healthz` and exits 0/1:
/// a container image without a shell or curl needs the binary itself for its
/// `HEALTHCHECK`.
pub async fn main<S: Service>() -> anyhow::Result<()> {
    let settings: S::Settings = config::load()?;
    if std::env::args().nth(1).as_deref() == Some("healthcheck") {
        return healthcheck(S::http_addr(&settings));
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
