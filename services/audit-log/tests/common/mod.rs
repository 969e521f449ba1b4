//! Test harness: the real audit-log against the real broker and PostgreSQL,
//! in-process or as a child process, and a producer that writes the records
//! the audit log consumes.
#![allow(dead_code)] // each test binary uses a different part of the harness

use std::net::SocketAddr;
use std::time::Duration;

use audit_log::{App, Settings};
use chrono::Utc;
use eventbank_events::{
    AccountEvent, AccountEventEnvelope, AccountId, Amount, CommandId, CommandOutcome,
    CommandResult, CorrelationId, Currency, EventEnvelope, EventId, Holder, Money, RejectionCode,
    TopicKind, TransferEvent, TransferEventEnvelope, TransferId, wire, wire::WireRecord,
};
use eventbank_runtime::Service;
use eventbank_runtime::http::HttpSettings;
use eventbank_runtime::kafka::KafkaSettings;
use eventbank_testkit::process::{ServiceProcess, kafka_env};
use eventbank_testkit::{Isolation, TestEnv, eventually};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio::task::JoinHandle;
use tokio_postgres::{Client, NoTls};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub const LONG: Duration = Duration::from_secs(90);

/// Settings for one test's audit log: its topics, group and schema.
pub fn settings(isolation: &Isolation, instance: &str) -> Settings {
    let env = TestEnv::get();
    let mut settings = Settings {
        instance: instance.to_owned(),
        http: HttpSettings {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        },
        kafka: env.kafka_settings(&isolation.topic_prefix()),
        ..Settings::default()
    };
    settings.postgres.url = env.postgres_url.clone();
    settings.postgres.schema = isolation.pg_schema();
    settings.audit.lag_interval_ms = 200;
    settings
}

/// The service inside the test process.
pub struct Running {
    pub base: String,
    shutdown: CancellationToken,
    handle: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    pub async fn start(settings: Settings) -> Self {
        let app = App::build(settings).await.expect("build audit-log");
        let addr = app.http_addr().expect("bound");
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(app.run(shutdown.clone()));
        Self {
            base: format!("http://127.0.0.1:{}", addr.port()),
            shutdown,
            handle,
        }
    }

    /// Graceful stop; asserts the service stops cleanly.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        let handle = std::mem::replace(&mut self.handle, tokio::spawn(async { Ok(()) }));
        tokio::time::timeout(LONG, handle)
            .await
            .expect("audit-log stops after shutdown")
            .expect("no panic")
            .expect("clean stop");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

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

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port()
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
    let response = reqwest::get(url).await.expect("GET");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

/// Writes records the way the other services do (keyed by stream id).
pub struct Feed {
    producer: FutureProducer,
    kafka: KafkaSettings,
}

impl Feed {
    pub fn new(isolation: &Isolation) -> Self {
        let kafka = TestEnv::get().kafka_settings(&isolation.topic_prefix());
        Self {
            producer: kafka.producer().expect("producer"),
            kafka,
        }
    }

    pub async fn raw(&self, kind: TopicKind, key: Uuid, value: &[u8]) {
        let topic = self.kafka.topics().name(kind);
        let key = wire::encode_key(key);
        self.producer
            .send(
                FutureRecord::to(&topic).key(&key).payload(value),
                Duration::from_secs(30),
            )
            .await
            .map_err(|(err, _)| err)
            .expect("produce");
    }

    pub async fn send<R: WireRecord>(&self, kind: TopicKind, record: &R) {
        self.raw(kind, record.key(), &wire::encode(record)).await;
    }

    /// Sends `record` to `partition` whatever its key hashes to; returns
    /// its offset.
    pub async fn send_to<R: WireRecord>(&self, kind: TopicKind, partition: i32, record: &R) -> i64 {
        let topic = self.kafka.topics().name(kind);
        let key = wire::encode_key(record.key());
        let value = wire::encode(record);
        self.producer
            .send(
                FutureRecord::to(&topic)
                    .key(&key)
                    .payload(&value)
                    .partition(partition),
                Duration::from_secs(30),
            )
            .await
            .map_err(|(err, _)| err)
            .expect("produce")
            .offset
    }
}

/// What an account does in a synthetic history.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    Deposit(i64),
    Withdraw(i64),
}

/// An account's events with consistent sequences and balances.
pub fn account_history(account: AccountId, steps: &[Step]) -> Vec<AccountEventEnvelope> {
    let mut balance = 0;
    let mut events = vec![envelope(
        account,
        1,
        AccountEvent::AccountOpened {
            holder: Holder::parse("Ann Auditor").unwrap(),
            currency: Currency::parse("EUR").unwrap(),
        },
    )];
    for (index, step) in steps.iter().enumerate() {
        let event = match *step {
            Step::Deposit(amount) => {
                balance += amount;
                AccountEvent::MoneyDeposited {
                    amount: Amount::new(amount).unwrap(),
                    balance_after: Money::new(balance),
                }
            }
            Step::Withdraw(amount) => {
                balance -= amount;
                AccountEvent::MoneyWithdrawn {
                    amount: Amount::new(amount).unwrap(),
                    balance_after: Money::new(balance),
                }
            }
        };
        events.push(envelope(account, index as u64 + 2, event));
    }
    events
}

fn envelope(account: AccountId, sequence: u64, event: AccountEvent) -> AccountEventEnvelope {
    EventEnvelope {
        schema_version: 1,
        event_id: EventId::new(),
        stream_id: account.into(),
        sequence,
        occurred_at: Utc::now(),
        command_id: CommandId::new(),
        causation_id: None,
        correlation_id: CorrelationId::new(),
        event,
    }
}

/// A rejected command aimed at `account`.
pub fn rejection(account: AccountId) -> CommandResult {
    CommandResult::new(
        CommandId::new(),
        account,
        CorrelationId::new(),
        Utc::now(),
        CommandOutcome::rejected(RejectionCode::InsufficientFunds, "balance too low"),
    )
}

/// A finished transfer between `from` and `to`.
pub fn transfer_completed(from: AccountId, to: AccountId) -> TransferEventEnvelope {
    EventEnvelope {
        schema_version: 1,
        event_id: EventId::new(),
        stream_id: TransferId::new().into(),
        sequence: 1,
        occurred_at: Utc::now(),
        command_id: CommandId::new(),
        causation_id: None,
        correlation_id: CorrelationId::new(),
        event: TransferEvent::TransferCompleted {
            from,
            to,
            amount: Amount::new(100).unwrap(),
            currency: Currency::parse("EUR").unwrap(),
        },
    }
}

/// Starts `settings`' app in-process and waits until `/readyz` says ready.
pub async fn start_ready(settings: Settings) -> Running {
    let running = Running::start(settings).await;
    let url = format!("{}/readyz", running.base);
    eventually("audit-log ready", LONG, || async {
        let status = reqwest::get(&url).await.ok()?.status();
        (status == 200).then_some(())
    })
    .await;
    running
}
