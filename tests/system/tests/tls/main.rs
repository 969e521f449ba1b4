//! The four service binaries over TLS only: Kafka over `SASL_SSL` (each
//! service its own SCRAM-SHA-512 user), Redis over `rediss://` as an ACL
//! user, PostgreSQL with `sslmode=verify-full`; none of those servers has a
//! plaintext port for clients. A transfer goes through and shows up in the
//! projector's view and in the audit trail, and no service prints a password
//! (their effective-configuration lines included).

mod acls;

use std::path::Path;
use std::time::Duration;

use eventbank_testkit::http::{get_json, until_success};
use eventbank_testkit::process::{ServiceProcess, free_port, service_binary};
use eventbank_testkit::tls::{SERVICES, TlsStack};
use eventbank_testkit::{Isolation, eventually};
use serde_json::{Value, json};

const LIMIT: Duration = Duration::from_secs(90);

struct Running {
    processes: Vec<ServiceProcess>,
    base: Vec<String>,
}

impl Running {
    fn base(&self, service: &str) -> &str {
        let index = SERVICES
            .iter()
            .position(|s| *s == service)
            .expect("service");
        &self.base[index]
    }
}

fn start(stack: &TlsStack, isolation: &Isolation, logs: &Path) -> Running {
    let mut processes = Vec::new();
    let mut base = Vec::new();
    for service in SERVICES {
        let port = free_port();
        let mut env = stack.service_env(service, isolation);
        env.extend(eventbank_testkit::auth::env());
        env.extend(
            [
                ("EVENTBANK_INSTANCE", format!("{service}-0")),
                ("EVENTBANK_HTTP__BIND", format!("127.0.0.1:{port}")),
                ("EVENTBANK_TELEMETRY__LOG_FORMAT", "json".to_owned()),
                ("EVENTBANK_TELEMETRY__LOG_FILTER", "info".to_owned()),
            ]
            .map(|(key, value)| (key.to_owned(), value)),
        );
        let log = logs.join(format!("{service}.log"));
        processes.push(ServiceProcess::spawn_logged(
            &service_binary(service),
            service,
            env,
            &log,
        ));
        base.push(format!("http://127.0.0.1:{port}"));
    }
    Running { processes, base }
}

async fn command(http: &reqwest::Client, api: &str, path: &str, body: Value) -> Value {
    let response = http
        .post(format!("{api}{path}"))
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&body)
        .send()
        .await
        .expect("command sent");
    let status = response.status();
    let answer: Value = response.json().await.expect("JSON answer");
    assert!(status.is_success(), "{path} answered {status}: {answer}");
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_goes_through_with_every_link_encrypted() {
    let stack = TlsStack::start().await;
    let isolation = Isolation::new("tls-only");
    let logs = tempfile::Builder::new()
        .prefix("eventbank-tls-logs-")
        .tempdir()
        .expect("log directory");
    let running = start(&stack, &isolation, logs.path());
    for service in SERVICES {
        let url = format!("{}/readyz", running.base(service));
        until_success(&format!("{service} ready over TLS"), &url).await;
    }

    let http = eventbank_testkit::http::client();
    let api = running.base("account-command").to_owned();
    let mut accounts = Vec::new();
    for holder in ["Ann", "Bob"] {
        let body = json!({ "holder": holder, "currency": "EUR" });
        let opened = command(&http, &api, "/accounts", body).await;
        accounts.push(opened["account_id"].as_str().expect("id").to_owned());
    }
    let (from, to) = (&accounts[0], &accounts[1]);
    command(
        &http,
        &api,
        &format!("/accounts/{from}/deposits"),
        json!({ "amount": 1000 }),
    )
    .await;
    let transfer = command(
        &http,
        &api,
        "/transfers",
        json!({ "from": from, "to": to, "amount": 250 }),
    )
    .await;
    let transfer_id = transfer["transfer_id"].as_str().expect("transfer id");

    // The projector (Redis over TLS) shows it completed, both balances moved.
    let projector = running.base("balance-projector");
    let view_url = format!("{projector}/transfers/{transfer_id}");
    eventually("the transfer completed in the view", LIMIT, || async {
        let view = get_json(&http, &view_url).await?;
        (view["status"] == "completed").then_some(())
    })
    .await;
    let to_url = format!("{projector}/accounts/{to}");
    eventually("the credit in the view", LIMIT, || async {
        let account = get_json(&http, &to_url).await?;
        (account["balance"] == 250).then_some(())
    })
    .await;

    // The audit trail (PostgreSQL, verify-full) holds the completed transfer.
    let trail_url = format!("{}/audit/streams/{transfer_id}", running.base("audit-log"));
    eventually(
        "the completed transfer in the audit trail",
        LIMIT,
        || async {
            let trail = get_json(&http, &trail_url).await?;
            let records = trail["records"].as_array()?;
            records
                .iter()
                .any(|record| record["type"] == "transfer_completed")
                .then_some(())
        },
    )
    .await;

    for process in running.processes {
        let status = process.stop(Duration::from_secs(60)).await;
        assert!(status.success(), "a service exited with {status}");
    }
    refused_with_a_wrong_password(&stack, &isolation, logs.path()).await;
    for service in SERVICES {
        let log = std::fs::read_to_string(logs.path().join(format!("{service}.log")))
            .expect("the service's log");
        assert!(
            log.contains("effective configuration") && log.contains("sasl_ssl"),
            "{service} logged its effective configuration: {log}"
        );
        for password in stack.passwords() {
            assert!(
                !log.contains(&password),
                "{service} printed a password in its log"
            );
        }
    }
}

/// A service given a wrong Kafka password stops at start, saying whose
/// credentials were refused, without printing the password it was given.
async fn refused_with_a_wrong_password(stack: &TlsStack, isolation: &Isolation, logs: &Path) {
    let wrong = "pw-wrong-0123456789";
    let mut env = stack.service_env("transfer-saga", isolation);
    env.retain(|(key, _)| key != "EVENTBANK_KAFKA__SASL_PASSWORD");
    env.push((
        "EVENTBANK_KAFKA__SASL_PASSWORD".to_owned(),
        wrong.to_owned(),
    ));
    env.extend(eventbank_testkit::auth::env());
    env.push(("EVENTBANK_HTTP__BIND".to_owned(), "127.0.0.1:0".to_owned()));
    env.push((
        "EVENTBANK_TELEMETRY__LOG_FORMAT".to_owned(),
        "json".to_owned(),
    ));
    let log = logs.join("refused.log");
    let mut process =
        ServiceProcess::spawn_logged(&service_binary("transfer-saga"), "transfer-saga", env, &log);
    let status = process.exit_status(LIMIT).await;
    assert!(!status.success(), "started with a wrong password");
    let log = std::fs::read_to_string(&log).expect("the service's log");
    assert!(
        log.contains("could not start") && log.contains("Kafka refused the credentials"),
        "{log}"
    );
    assert!(log.contains("transfer-saga"), "names the user: {log}");
    assert!(!log.contains(wrong), "printed the wrong password: {log}");
}
