//! Test harness: the real service against the real broker, either in-process
//! (port 0) or as a child process that can be killed with SIGKILL.
#![allow(dead_code)] // each test binary uses a different part of the harness

use std::net::SocketAddr;
use std::time::Duration;

use account_command::{App, Settings};
use eventbank_runtime::Service;
use eventbank_runtime::http::HttpSettings;
use eventbank_testkit::process::ServiceProcess;
use eventbank_testkit::{Isolation, TestEnv};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const LONG: Duration = Duration::from_secs(90);

/// Settings for one part of one test's bank: its own topics and group.
pub fn settings(isolation: &Isolation, api: bool, processor: bool, instance: &str) -> Settings {
    let mut settings = Settings {
        instance: instance.to_owned(),
        http: HttpSettings {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        },
        kafka: TestEnv::get().kafka_settings(&isolation.topic_prefix()),
        ..Settings::default()
    };
    settings.api.enabled = api;
    settings.processor.enabled = processor;
    settings.api.result_timeout_ms = 10_000;
    settings
}

/// A service running inside the test process.
pub struct Running {
    pub addr: SocketAddr,
    shutdown: CancellationToken,
    handle: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    pub async fn start(settings: Settings) -> Self {
        let app = App::build(settings).await.expect("build account-command");
        let addr = app.http_addr().expect("bound");
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(app.run(shutdown.clone()));
        Self {
            addr,
            shutdown,
            handle,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    /// Graceful stop; asserts the service stops cleanly.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        let handle = std::mem::replace(&mut self.handle, tokio::spawn(async { Ok(()) }));
        tokio::time::timeout(LONG, handle)
            .await
            .expect("service stops after shutdown")
            .expect("service task did not panic")
            .expect("service stopped cleanly");
    }
}

impl Drop for Running {
    /// A test that panics never reaches `stop`; without this the service's
    /// blocking processor thread would keep the test process alive.
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The processor as a separate OS process, so a test can kill it the way a
/// node failure would: no shutdown hook, no final commit.
pub struct ProcessorProcess;

impl ProcessorProcess {
    pub fn spawn(isolation: &Isolation, instance: &str) -> ServiceProcess {
        Self::spawn_with(isolation, instance, &[])
    }

    /// With extra `EVENTBANK_*` settings.
    pub fn spawn_with(
        isolation: &Isolation,
        instance: &str,
        extra: &[(&str, &str)],
    ) -> ServiceProcess {
        let kafka = TestEnv::get().kafka_settings(&isolation.topic_prefix());
        let mut env = vec![("EVENTBANK_API__ENABLED", "false")];
        env.extend_from_slice(extra);
        ServiceProcess::start(
            env!("CARGO_BIN_EXE_account-command"),
            instance,
            &kafka,
            &env,
        )
    }
}
