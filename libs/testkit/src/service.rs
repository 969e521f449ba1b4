//! Any service run inside the test process, the way its binary runs it but
//! on port 0 and stopped by cancelling a token instead of a signal: what
//! every service's integration tests start, whatever the service.

use std::marker::PhantomData;
use std::net::SocketAddr;
use std::time::Duration;

use eventbank_runtime::Service;
use eventbank_runtime::http::HttpSettings;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::eventually;

/// How long a service may take to become ready or to stop. A guard against a
/// hang, generous so a slow shared machine does not fail a correct service.
const READY_DEADLINE: Duration = Duration::from_secs(90);
const STOP_DEADLINE: Duration = Duration::from_secs(150);

/// Where a test's service listens: an ephemeral port on loopback, so tests
/// run side by side.
pub fn local_http() -> HttpSettings {
    HttpSettings {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        limits: Default::default(),
    }
}

/// A service `S` running on the test's runtime. Stop it with
/// [`stop`](Self::stop), which asserts a clean stop; dropping it (a test that
/// panicked) only cancels it, so a service's blocking threads do not keep
/// the test process alive.
#[derive(Debug)]
pub struct InProcess<S> {
    addr: SocketAddr,
    shutdown: CancellationToken,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
    service: PhantomData<fn() -> S>,
}

impl<S: Service + 'static> InProcess<S> {
    /// Builds the service from `settings` and runs it.
    pub async fn start(settings: S::Settings) -> Self {
        let app = S::build(settings)
            .await
            .unwrap_or_else(|err| panic!("build {}: {err:#}", S::NAME));
        Self::run(app)
    }

    /// [`start`](Self::start), then waits until `/readyz` says ready.
    pub async fn start_ready(settings: S::Settings) -> Self {
        let running = Self::start(settings).await;
        running.wait_ready().await;
        running
    }

    /// Runs an app already built (for a test that takes something from it
    /// first, or holds it back before it runs).
    pub fn run(app: S) -> Self {
        let addr = app.http_addr().expect("the HTTP server is bound");
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(app.run(shutdown.clone()));
        Self {
            addr,
            shutdown,
            handle: Some(handle),
            service: PhantomData,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    /// Waits until the service's `/readyz` answers 200.
    pub async fn wait_ready(&self) {
        let url = format!("{}/readyz", self.base_url());
        eventually(&format!("{} ready", S::NAME), READY_DEADLINE, || async {
            let status = reqwest::get(&url).await.ok()?.status();
            (status == 200).then_some(())
        })
        .await;
    }

    /// Cancels the service and asserts it stops by itself, without a panic
    /// or an error.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        let handle = self.handle.take().expect("running until stopped");
        tokio::time::timeout(STOP_DEADLINE, handle)
            .await
            .unwrap_or_else(|_| {
                panic!("{} still running {STOP_DEADLINE:?} after shutdown", S::NAME)
            })
            .unwrap_or_else(|err| panic!("{} panicked: {err}", S::NAME))
            .unwrap_or_else(|err| panic!("{} stopped with an error: {err:#}", S::NAME));
    }
}

impl<S> Drop for InProcess<S> {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
