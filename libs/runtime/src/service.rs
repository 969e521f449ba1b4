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

use crate::config::{self, ConfigError, Validate};
use crate::http::{Auth, AuthSettings, HttpServer, HttpSettings};
use crate::kafka::access::KafkaAccess;
use crate::kafka::{KafkaSettings, ensure_system_topics};
use crate::telemetry::{self, TelemetrySettings};

pub trait Service: Sized + Send {
    /// Name used in logs, metrics and transactional ids.
    const NAME: &'static str;
    type Settings: Serialize + DeserializeOwned + Default + Validate + CommonSettings + Send;

    /// Connects and binds everything; fails fast on a bad dependency.
    fn build(settings: Self::Settings) -> impl Future<Output = anyhow::Result<Self>> + Send;

    /// Where the HTTP server actually listens, once built (port 0 in tests
    /// resolves here).
    fn http_addr(&self) -> std::io::Result<SocketAddr>;

    /// Runs until `shutdown` is cancelled, then finishes or aborts open work.
    fn run(self, shutdown: CancellationToken) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// What the service does on Kafka with `settings`: the least-privilege
    /// ACLs of its principal follow from it (`<binary> kafka-acls`).
    fn kafka_access(settings: &Self::Settings) -> KafkaAccess;
}

/// The parts every service's settings have. Implement it with
/// [`common_settings!`](crate::common_settings) on a struct with the fields
/// `instance`, `http`, `auth`, `kafka`, `telemetry` and `shutdown_grace_secs`.
pub trait CommonSettings {
    /// Stable name of this instance (the pod name on Kubernetes): the
    /// transactional ids and static group members derive from it.
    fn instance(&self) -> &str;
    fn http(&self) -> &HttpSettings;
    /// Who may call the HTTP API.
    fn auth(&self) -> &AuthSettings;
    fn kafka(&self) -> &KafkaSettings;
    fn telemetry(&self) -> &TelemetrySettings;
    /// How long the tasks get to drain after a stop (see [`crate::supervisor`]).
    fn shutdown_grace(&self) -> Duration;

    /// Checks the common parts; a service's [`Validate`] calls it first.
    fn validate_common(&self) -> Result<(), ConfigError> {
        if self.instance().trim().is_empty() {
            return Err(ConfigError::invalid("instance", "is empty"));
        }
        self.auth().validate()?;
        self.kafka().validate()?;
        self.telemetry().validate()
    }
}

/// Implements [`CommonSettings`] for a settings struct by its fields.
#[macro_export]
macro_rules! common_settings {
    ($settings:ty) => {
        impl $crate::service::CommonSettings for $settings {
            fn instance(&self) -> &str {
                &self.instance
            }
            fn http(&self) -> &$crate::http::HttpSettings {
                &self.http
            }
            fn auth(&self) -> &$crate::http::AuthSettings {
                &self.auth
            }
            fn kafka(&self) -> &$crate::kafka::KafkaSettings {
                &self.kafka
            }
            fn telemetry(&self) -> &$crate::telemetry::TelemetrySettings {
                &self.telemetry
            }
            fn shutdown_grace(&self) -> ::std::time::Duration {
                ::std::time::Duration::from_secs(self.shutdown_grace_secs)
            }
        }
    };
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
/// - `<binary> kafka-acls [PRINCIPAL]` prints the `kafka-acls.sh` commands
///   granting `PRINCIPAL` (default `User:<service>`) what the service does on
///   Kafka with these settings ([`Service::kafka_access`]), and exits.
pub async fn main<S: Service>() -> anyhow::Result<()> {
    // A service process may end itself when a Kafka call wedges; a test
    // running a service in-process must not be ended with it.
    crate::kafka::transactional::arm_stuck_call_exit();
    let settings: S::Settings = config::load()?;
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("healthcheck") => return healthcheck(settings.http().bind),
        Some("ensure-topics") => {
            let _telemetry = telemetry::init(settings.telemetry(), S::NAME);
            ensure_system_topics(settings.kafka(), TOPIC_JOB_TIMEOUT).await?;
            tracing::info!(service = S::NAME, "topics ready");
            return Ok(());
        }
        Some("kafka-acls") => {
            let principal = std::env::args()
                .nth(2)
                .unwrap_or_else(|| format!("User:{}", S::NAME));
            for acl in S::kafka_access(&settings).acls(settings.kafka()) {
                println!("{}", acl.command(&principal));
            }
            return Ok(());
        }
        Some(other) => {
            anyhow::bail!(
                "unknown subcommand {other:?}; known: healthcheck, ensure-topics, kafka-acls"
            )
        }
    }
    let telemetry = telemetry::init(settings.telemetry(), S::NAME);
    tracing::info!(
        service = S::NAME,
        version = env!("CARGO_PKG_VERSION"),
        config = %config::redacted(&settings),
        "effective configuration"
    );
    let app = match S::build(settings).await {
        Ok(app) => app,
        Err(err) => {
            // In the service's own log too (JSON where logs are collected),
            // not only on stderr: why it could not start (a refused
            // password, an untrusted certificate) is what an operator looks for.
            tracing::error!(
                service = S::NAME,
                error = format!("{err:#}"),
                "could not start"
            );
            return Err(err);
        }
    };
    let shutdown = crate::shutdown::on_signal();
    if let Err(err) = app.run(shutdown).await {
        tracing::error!(
            service = S::NAME,
            error = format!("{err:#}"),
            "stopped with an error"
        );
        eprintln!("Error: {err:#}");
        drop(telemetry);
        // Not a return: a task given up after the shutdown grace (a loop
        // wedged in a blocking Kafka call) would keep the runtime's drop,
        // which waits for every blocking thread, from ever finishing.
        std::process::exit(1);
    }
    tracing::info!(service = S::NAME, "stopped");
    Ok(())
}

/// How long `ensure-topics` waits for the cluster before failing (the job
/// retries).
const TOPIC_JOB_TIMEOUT: Duration = Duration::from_secs(60);

/// How long topic creation may take when a service starts.
const TOPIC_SETUP_TIMEOUT: Duration = Duration::from_secs(30);

/// What every service's [`Service::build`] does first: read the API's tokens
/// (no token with auth on fails here, whoever built the settings), bind its
/// HTTP server (whose registry its metrics join; `version` is the service's
/// own; its `/topics` shows the layout below) and create whichever of the
/// system topics is missing.
pub async fn prepare<S: Service>(
    settings: &S::Settings,
    version: &str,
) -> anyhow::Result<HttpServer> {
    let auth = Auth::from_settings(settings.auth())?;
    if !auth.enabled() {
        tracing::warn!(
            service = S::NAME,
            "auth.enabled is false: the API answers anyone who can reach it"
        );
    }
    let mut http = HttpServer::bind(settings.http(), auth, S::NAME, version).await?;
    http.ops.topics = std::sync::Arc::new(crate::http::TopicsReport::of(settings.kafka()));
    ensure_system_topics(settings.kafka(), TOPIC_SETUP_TIMEOUT).await?;
    Ok(http)
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
