//! Test harness: the real audit-log against the real broker and PostgreSQL,
//! in-process or as a child process, and readers of its trail.

use std::time::Duration;

use audit_log::{App, Settings};
use eventbank_testkit::process::{ServiceProcess, kafka_env};
use eventbank_testkit::{InProcess, Isolation, TestEnv, eventually, local_http};
use tokio_postgres::{Client, NoTls};

pub const LONG: Duration = Duration::from_secs(90);

/// Settings for one test's audit log: its topics, group and schema.
pub fn settings(isolation: &Isolation, instance: &str) -> Settings {
    let env = TestEnv::get();
    let mut settings = Settings {
        instance: instance.to_owned(),
        http: local_http(),
        kafka: env.kafka_settings(&isolation.topic_prefix()),
        auth: eventbank_testkit::auth::settings(),
        ..Settings::default()
    };
    settings.postgres.url = env.postgres_url.clone();
    settings.postgres.schema = isolation.pg_schema();
    settings.audit.lag_interval_ms = 200;
    settings
}

/// audit-log inside the test process.
pub type Running = InProcess<App>;

/// The audit-log binary as a child process (SIGKILL-able), serving HTTP on
/// `port`.
pub fn spawn_process(
    isolation: &Isolation,
    instance: &str,
    port: u16,
    max_batch: usize,
) -> ServiceProcess {
    let env = TestEnv::get();
    let kafka = env.kafka_settings(&isolation.topic_prefix());
    let mut vars = kafka_env(&kafka);
    vars.extend(eventbank_testkit::auth::env());
    vars.extend(
        [
            ("EVENTBANK_INSTANCE", instance.to_owned()),
            ("EVENTBANK_HTTP__BIND", format!("127.0.0.1:{port}")),
            ("EVENTBANK_POSTGRES__URL", env.postgres_url.clone()),
            ("EVENTBANK_POSTGRES__SCHEMA", isolation.pg_schema()),
            ("EVENTBANK_AUDIT__MAX_BATCH", max_batch.to_string()),
            ("EVENTBANK_TELEMETRY__LOG_FILTER", "warn".to_owned()),
            ("EVENTBANK_TELEMETRY__LOG_FORMAT", "json".to_owned()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    ServiceProcess::spawn(env!("CARGO_BIN_EXE_audit-log"), "audit-log", vars)
}

/// A superuser connection to the test's schema (to inspect and to tamper).
pub async fn pg(isolation: &Isolation) -> Client {
    let (client, connection) = tokio_postgres::connect(&TestEnv::get().postgres_url, NoTls)
        .await
        .expect("connect to postgres");
    tokio::spawn(connection);
    client
        .batch_execute(&format!("SET search_path TO {}", isolation.pg_schema()))
        .await
        .expect("search_path");
    client
}

/// Drops the test's schema (the trail's trigger does not stop DROP SCHEMA).
pub async fn drop_schema(isolation: &Isolation) {
    let client = pg(isolation).await;
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {} CASCADE",
            isolation.pg_schema()
        ))
        .await
        .expect("drop schema");
}

pub async fn count(client: &Client) -> i64 {
    client
        .query_one("SELECT count(*) FROM audit_records", &[])
        .await
        .map(|row| row.get(0))
        .unwrap_or(0)
}

/// Waits until exactly `expected` records are in the trail, then a little
/// longer to see that no more arrive.
pub async fn wait_for_records(client: &Client, expected: i64) {
    eventually(&format!("{expected} audit records"), LONG, || async {
        let n = count(client).await;
        assert!(
            n <= expected,
            "more records than expected: {n} > {expected}"
        );
        (n == expected).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(count(client).await, expected, "records kept arriving");
}

pub async fn get_json(url: &str) -> (u16, serde_json::Value) {
    let response = eventbank_testkit::http::client()
        .get(url)
        .send()
        .await
        .expect("GET");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

/// Asserts that `/audit/verify` finds every chain intact, over `streams`
/// streams and `records` records, and `/audit/reconcile` every balance
/// matching, over `accounts` accounts; returns both reports.
pub async fn assert_trail_intact(
    base: &str,
    streams: u64,
    records: u64,
    accounts: u64,
) -> (serde_json::Value, serde_json::Value) {
    let (status, verified) = get_json(&format!("{base}/audit/verify")).await;
    assert_eq!(status, 200);
    assert_eq!(verified["ok"], true, "{verified}");
    assert_eq!(verified["streams_checked"], streams);
    assert_eq!(verified["records_checked"], records);
    let (_, reconciled) = get_json(&format!("{base}/audit/reconcile")).await;
    assert_eq!(reconciled["ok"], true, "{reconciled}");
    assert_eq!(reconciled["accounts_checked"], accounts);
    (verified, reconciled)
}
