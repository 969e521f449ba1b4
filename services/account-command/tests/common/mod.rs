//! Test harness: the real service against the real broker, either in-process
//! (port 0) or as a child process that can be killed with SIGKILL.
#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod client;
pub mod log;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use account_command::{App, Settings};
use eventbank_runtime::Service;
use eventbank_runtime::http::HttpSettings;
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
pub struct ProcessorProcess {
    child: Child,
    pub instance: String,
}

impl ProcessorProcess {
    pub fn spawn(isolation: &Isolation, instance: &str) -> Self {
        Self::spawn_with(isolation, instance, &[])
    }

    /// With extra `EVENTBANK_*` settings.
    pub fn spawn_with(isolation: &Isolation, instance: &str, extra: &[(&str, &str)]) -> Self {
        let kafka = TestEnv::get().kafka_settings(&isolation.topic_prefix());
        let child = Command::new(env!("CARGO_BIN_EXE_account-command"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("EVENTBANK_INSTANCE", instance)
            .env("EVENTBANK_HTTP__BIND", "127.0.0.1:0")
            .env("EVENTBANK_API__ENABLED", "false")
            .env(
                "EVENTBANK_KAFKA__BOOTSTRAP_SERVERS",
                &kafka.bootstrap_servers,
            )
            .env("EVENTBANK_KAFKA__TOPIC_PREFIX", &kafka.topic_prefix)
            .env(
                "EVENTBANK_KAFKA__TOPICS__PARTITIONS",
                kafka.topics.partitions.to_string(),
            )
            .env(
                "EVENTBANK_KAFKA__TOPICS__REPLICATION_FACTOR",
                kafka.topics.replication_factor.to_string(),
            )
            .env("EVENTBANK_TELEMETRY__LOG_FILTER", "warn")
            .env("EVENTBANK_TELEMETRY__LOG_FORMAT", "json")
            .envs(extra.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the account-command binary");
        Self {
            child,
            instance: instance.to_owned(),
        }
    }

    /// SIGKILL: the process gets no chance to commit or abort anything.
    pub fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("reap");
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn terminate(mut self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("send SIGTERM");
        assert!(status.success(), "kill -TERM failed");
        let exit = self.child.wait().expect("wait");
        assert!(
            exit.success(),
            "processor {} exited with {exit}",
            self.instance
        );
    }
}

impl Drop for ProcessorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
