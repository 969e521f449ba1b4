//! The four service binaries on the dev infrastructure, exporting traces and
//! logging JSON (their debug lines included: each consumed record logs one).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use eventbank_testkit::http::{get_json, until_success};
use eventbank_testkit::process::{ServiceProcess, dev_service_env, free_port, service_binary};
use eventbank_testkit::{Isolation, TestEnv, eventually};
use serde_json::Value;

use super::SERVICES;

pub struct System {
    processes: Vec<(&'static str, ServiceProcess)>,
    bases: HashMap<&'static str, String>,
    logs: PathBuf,
    api: String,
    projector: String,
}

impl System {
    /// The four services, exporting traces to `otlp` if given.
    pub async fn start(env: &TestEnv, isolation: &Isolation, otlp: Option<&str>) -> Self {
        let logs = std::env::temp_dir().join(format!("eventbank-trace-{}", isolation.run_id));
        std::fs::create_dir_all(&logs).expect("log directory");
        let mut processes = Vec::new();
        let mut bases = HashMap::new();
        for service in SERVICES {
            let port = free_port();
            let mut vars = dev_service_env(service, env, isolation, port);
            vars.extend(
                [
                    ("EVENTBANK_TELEMETRY__LOG_FORMAT", "json".to_owned()),
                    (
                        "EVENTBANK_TELEMETRY__LOG_FILTER",
                        "warn,eventbank_runtime=debug,account_command=info".to_owned(),
                    ),
                    (
                        "OTEL_EXPORTER_OTLP_ENDPOINT",
                        otlp.unwrap_or_default().to_owned(),
                    ),
                ]
                .map(|(key, value)| (key.to_owned(), value)),
            );
            if service == "audit-log" {
                // The chains' extent measured often enough to be seen.
                vars.push((
                    "EVENTBANK_AUDIT__CHAIN_EXTENT_INTERVAL_MS".to_owned(),
                    "200".to_owned(),
                ));
            }
            let log = logs.join(format!("{service}.log"));
            let process =
                ServiceProcess::spawn_logged(&service_binary(service), service, vars, &log);
            processes.push((service, process));
            bases.insert(service, format!("http://127.0.0.1:{port}"));
        }
        let system = Self {
            processes,
            bases: bases.clone(),
            logs,
            api: bases["account-command"].clone(),
            projector: bases["balance-projector"].clone(),
        };
        for service in SERVICES {
            let url = format!("{}/readyz", bases[service]);
            until_success(&format!("{service} ready"), &url).await;
        }
        system
    }

    /// Sends a command and returns its answer (201/200/202 with a body).
    pub async fn command(
        &self,
        http: &reqwest::Client,
        path: &str,
        body: Value,
        traceparent: Option<&str>,
    ) -> Value {
        let (status, answer) = self.send(http, path, body, traceparent).await;
        assert!(status.is_success(), "{path} answered {status}: {answer}");
        answer
    }

    /// Sends a command and returns whatever it answered.
    pub async fn send(
        &self,
        http: &reqwest::Client,
        path: &str,
        body: Value,
        traceparent: Option<&str>,
    ) -> (reqwest::StatusCode, Value) {
        let mut request = http
            .post(format!("{}{path}", self.api))
            .header("idempotency-key", uuid::Uuid::new_v4().to_string())
            .json(&body);
        if let Some(traceparent) = traceparent {
            request = request.header("traceparent", traceparent);
        }
        let response = request.send().await.expect("command sent");
        let status = response.status();
        let answer: Value = response.json().await.expect("JSON answer");
        (status, answer)
    }

    pub async fn open(&self, http: &reqwest::Client, holder: &str) -> String {
        let body = serde_json::json!({ "holder": holder, "currency": "EUR" });
        let opened = self.command(http, "/accounts", body, None).await;
        opened["account_id"]
            .as_str()
            .expect("account id")
            .to_owned()
    }

    /// Two accounts, the first holding 1000.
    pub async fn two_accounts(&self, http: &reqwest::Client) -> (String, String) {
        let from = self.open(http, "Ann").await;
        let to = self.open(http, "Bob").await;
        let deposit = serde_json::json!({ "amount": 1000 });
        self.command(http, &format!("/accounts/{from}/deposits"), deposit, None)
            .await;
        (from, to)
    }

    /// `GET {path}` of `service`, as JSON.
    pub async fn get(&self, http: &reqwest::Client, service: &str, path: &str) -> Value {
        let url = format!("{}{path}", self.bases[service]);
        get_json(http, &url)
            .await
            .unwrap_or_else(|| panic!("GET {url}"))
    }

    /// Every service's `/metrics` page.
    pub async fn scrape(&self) -> HashMap<&'static str, String> {
        let mut pages = HashMap::new();
        for service in SERVICES {
            let page = eventbank_testkit::metrics::scrape(&self.bases[service])
                .await
                .unwrap_or_else(|| panic!("GET {service}/metrics"));
            pages.insert(service, page);
        }
        pages
    }

    pub async fn wait_completed(&self, http: &reqwest::Client, transfer: &str) {
        let url = format!("{}/transfers/{transfer}", self.projector);
        eventually(
            "the transfer completed",
            Duration::from_secs(90),
            || async {
                let view = get_json(http, &url).await?;
                (view["status"] == "completed").then_some(())
            },
        )
        .await;
    }

    /// Stops every service (SIGTERM: spans and log lines are flushed) and
    /// returns each one's log.
    pub async fn stop(self) -> HashMap<&'static str, String> {
        let mut logs = HashMap::new();
        for (service, process) in self.processes {
            process.stop(Duration::from_secs(60)).await;
            let log = std::fs::read_to_string(self.logs.join(format!("{service}.log")))
                .unwrap_or_default();
            logs.insert(service, log);
        }
        logs
    }
}
