//! A projector that can be killed the way a node failure kills it.

use balance_projector::{App, Settings};
use eventbank_runtime::Service;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A projector in a runtime of its own, so it can be killed with everything
/// it spawned (the serving projector, the lag loop, Redis and Kafka clients)
/// dropped at whatever await point they are at: no graceful stop, no final
/// offset commit. Aborting only the task running `App::run` would not do:
/// its drop guard cancels the projectors, which then finish their batch and
/// commit, like a graceful shutdown.
pub(super) struct Crashable {
    runtime: Option<tokio::runtime::Runtime>,
    handle: JoinHandle<anyhow::Result<()>>,
}

impl Crashable {
    /// Builds the app (creating the topics); it runs once `go` is cancelled.
    pub(super) async fn start(settings: Settings, go: CancellationToken) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let app = runtime
            .spawn(App::build(settings))
            .await
            .expect("no panic")
            .expect("build balance-projector");
        // Never cancelled: the only way this one stops is the crash.
        let handle = runtime.spawn(async move {
            go.cancelled().await;
            app.run(CancellationToken::new()).await
        });
        Self {
            runtime: Some(runtime),
            handle,
        }
    }

    pub(super) fn crash(mut self) {
        self.handle.abort();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Drop for Crashable {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
