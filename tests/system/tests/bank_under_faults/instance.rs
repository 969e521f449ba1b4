//! One service instance of the system, run from its built binary: started,
//! SIGKILLed, restarted in place with the same port and identity.

use std::path::PathBuf;
use std::time::Duration;

use eventbank_runtime::kafka::KafkaSettings;
use eventbank_runtime::kafka::transactional::STUCK_CALL_EXIT_CODE;
use eventbank_testkit::http::until_success;
use eventbank_testkit::process::{ServiceProcess, free_port, kafka_env, service_binary};

/// One service instance, restartable on the same port and identity.
pub(super) struct Instance {
    binary: String,
    pub(super) name: String,
    port: u16,
    env: Vec<(String, String)>,
    log: PathBuf,
    pub(super) process: Option<ServiceProcess>,
}

impl Instance {
    pub(super) fn new(
        service: &str,
        name: &str,
        kafka: &KafkaSettings,
        logs: &std::path::Path,
        extra: &[(&str, String)],
    ) -> Self {
        let port = free_port();
        let mut env = kafka_env(kafka);
        env.extend(eventbank_testkit::auth::env());
        env.extend(
            [
                ("EVENTBANK_INSTANCE", name.to_owned()),
                ("EVENTBANK_HTTP__BIND", format!("127.0.0.1:{port}")),
                (
                    "EVENTBANK_TELEMETRY__LOG_FILTER",
                    // `EVENTBANK_SYSTEM_TEST_LOG_FILTER=info` to see more of a failed run.
                    std::env::var("EVENTBANK_SYSTEM_TEST_LOG_FILTER")
                        .unwrap_or_else(|_| "warn".to_owned()),
                ),
                ("EVENTBANK_TELEMETRY__LOG_FORMAT", "json".to_owned()),
            ]
            .iter()
            .chain(extra)
            .map(|(k, v)| ((*k).to_owned(), v.clone())),
        );
        Self {
            binary: service_binary(service),
            name: name.to_owned(),
            port,
            env,
            log: logs.join(format!("{name}.log")),
            process: None,
        }
    }

    pub(super) fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub(super) fn start(&mut self) {
        assert!(self.process.is_none(), "{} already running", self.name);
        self.process = Some(ServiceProcess::spawn_logged(
            &self.binary,
            &self.name,
            self.env.clone(),
            &self.log,
        ));
    }

    pub(super) fn kill(&mut self) {
        eprintln!("[faults] SIGKILL {}", self.name);
        self.process.take().expect("running").kill();
    }

    /// SIGTERM and start again. A stop that is not clean (the stuck-call
    /// watchdog's exit 70, or an error) is recorded with its log's last
    /// lines and reported at the end: the bank's invariants are what this
    /// test holds the system to; clean stops are the ops tests' subject.
    pub(super) async fn restart(&mut self, unclean: &mut Vec<String>) {
        eprintln!("[faults] rolling restart of {}", self.name);
        let status = self
            .process
            .take()
            .expect("running")
            .stop(Duration::from_secs(150))
            .await;
        if !status.success() {
            let tail = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(8).collect();
            let why = if status.code() == Some(STUCK_CALL_EXIT_CODE) {
                "the stuck-call watchdog".to_owned()
            } else {
                status.to_string()
            };
            eprintln!(
                "[faults] {} did not stop cleanly ({why}); last log lines, newest first:\n  {}",
                self.name,
                tail.join("\n  ")
            );
            unclean.push(format!("{}: {why}", self.name));
        }
        self.start();
    }

    pub(super) async fn healthy(&self) {
        let url = format!("{}/healthz", self.base());
        until_success(&format!("{} answering", self.name), &url).await;
    }
}
