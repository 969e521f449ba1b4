//! Harness for the projector's integration tests: the real projector in the
//! test process on one test's own topics and Redis keyspace, a writer that
//! puts wire-encoded events straight onto its topics (no command side, so a
//! test can write gaps and poison), and readers of its HTTP API and metrics.
#![allow(dead_code)] // each test binary uses a different part of the harness

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use balance_projector::store::Store;
use balance_projector::{App, Settings};
use chrono::Utc;
use eventbank_events::{
    AccountEvent, AccountEventEnvelope, AccountId, Amount, CommandId, CorrelationId, Currency,
    EventEnvelope, EventId, Holder, Money, StreamId, TopicKind, TransferEvent,
    TransferEventEnvelope, TransferFailureReason, TransferId, wire,
};
use eventbank_runtime::Service;
use eventbank_runtime::http::HttpSettings;
use eventbank_testkit::{Isolation, TestEnv, eventually};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};

pub mod dump;

pub const LONG: Duration = Duration::from_secs(60);

/// An ephemeral port on loopback, so tests can run side by side.
pub fn local_http() -> HttpSettings {
    HttpSettings {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
    }
}

/// A projector on `isolation`'s topics and Redis keyspace; the rest default.
pub fn settings(isolation: &Isolation) -> Settings {
    let env = TestEnv::get();
    let mut settings = Settings {
        instance: "test".to_owned(),
        http: local_http(),
        kafka: env.kafka_settings(&isolation.topic_prefix()),
        ..Settings::default()
    };
    settings.redis.url = env.redis_url.clone();
    settings.redis.key_prefix = isolation.redis_prefix();
    settings
}

/// A projector in the test's runtime, stopped gracefully (or by its drop
/// guard if the test panics).
pub struct Running {
    pub base: String,
    pub store: Store,
    shutdown: CancellationToken,
    _stop_on_drop: DropGuard,
    handle: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    pub async fn start(settings: Settings) -> Self {
        let app = App::build(settings).await.expect("build balance-projector");
        let addr = app.http_addr().expect("bound");
        let store = app.store().clone();
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(app.run(shutdown.clone()));
        Self {
            base: format!("http://127.0.0.1:{}", addr.port()),
            store,
            _stop_on_drop: shutdown.clone().drop_guard(),
            shutdown,
            handle,
        }
    }

    pub async fn start_ready(settings: Settings) -> Self {
        let running = Self::start(settings).await;
        running.wait_ready().await;
        running
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(LONG, self.handle)
            .await
            .expect("stops")
            .expect("no panic")
            .expect("clean stop");
    }

    /// Status, the `x-read-model-behind` header and the JSON body (`Null`
    /// when there is none).
    pub async fn get(&self, path: &str) -> (u16, Option<String>, Value) {
        let response = reqwest::get(format!("{}{path}", self.base))
            .await
            .expect("GET");
        let status = response.status().as_u16();
        let behind = response
            .headers()
            .get("x-read-model-behind")
            .map(|v| v.to_str().unwrap_or_default().to_owned());
        let body = response.json().await.unwrap_or(Value::Null);
        (status, behind, body)
    }

    /// Status and JSON body (`Null` when there is none) of a bodiless POST.
    pub async fn post(&self, path: &str) -> (u16, Value) {
        let response = reqwest::Client::new()
            .post(format!("{}{path}", self.base))
            .send()
            .await
            .expect("POST");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn metrics(&self) -> Option<String> {
        metrics(&self.base).await
    }

    pub async fn wait_ready(&self) {
        eventually("projector ready", LONG, || async {
            let (status, _, _) = self.get("/readyz").await;
            (status == 200).then_some(())
        })
        .await;
    }

    /// Waits until `account`'s view is at `version` or later; returns it.
    pub async fn wait_version(&self, account: AccountId, version: u64) -> Value {
        eventually("account version", LONG, || async {
            let (status, _, body) = self.get(&format!("/accounts/{account}")).await;
            (status == 200 && body["version"].as_u64() >= Some(version)).then_some(body)
        })
        .await
    }

    /// Waits until a rebuild has switched serving to `generation`.
    pub async fn wait_generation(&self, generation: u64) {
        let what = format!("switched to generation {generation}");
        eventually(&what, LONG, || async {
            let (_, _, body) = self.get("/admin/generation").await;
            (body["current"] == generation).then_some(())
        })
        .await;
    }
}

/// The Prometheus text at `base`'s `/metrics`; `None` on any failure, so
/// it can be polled.
pub async fn metrics(base: &str) -> Option<String> {
    reqwest::get(format!("{base}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()
}

/// The `eventbank_projector_events_total` series that mention `outcome`.
pub fn events_series<'a>(metrics: &'a str, outcome: &'a str) -> impl Iterator<Item = &'a str> {
    metrics
        .lines()
        .filter(move |l| l.starts_with("eventbank_projector_events_total") && l.contains(outcome))
}

/// How many events the projector counted with `outcome`, over every topic.
pub fn events_total(metrics: &str, outcome: &str) -> u64 {
    events_series(metrics, outcome)
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// A connection to the Redis the projectors write to, to look behind
/// their back (or damage what they wrote).
pub async fn redis_connection() -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(TestEnv::get().redis_url.as_str()).unwrap();
    client.get_multiplexed_async_connection().await.unwrap()
}

/// Produces to the test's `account-events` and `transfer-events`.
pub struct Writer {
    producer: FutureProducer,
    pub accounts: String,
    pub transfers: String,
    produced: AtomicU64,
}

impl Writer {
    pub fn new(settings: &Settings) -> Self {
        let topics = settings.kafka.topics();
        Self {
            producer: settings.kafka.producer().expect("producer"),
            accounts: topics.name(TopicKind::AccountEvents),
            transfers: topics.name(TopicKind::TransferEvents),
            produced: AtomicU64::new(0),
        }
    }

    pub async fn raw(&self, topic: &str, key: &[u8], value: &[u8]) {
        self.producer
            .send(
                FutureRecord::to(topic).key(key).payload(value),
                Duration::from_secs(10),
            )
            .await
            .expect("produce");
        self.produced.fetch_add(1, Ordering::SeqCst);
    }

    pub async fn account(&self, account: AccountId, sequence: u64, event: AccountEvent) {
        let envelope: AccountEventEnvelope = envelope(account.into(), sequence, event);
        self.raw(
            &self.accounts,
            &wire::encode_key(account),
            &wire::encode(&envelope),
        )
        .await;
    }

    pub async fn transfer(&self, transfer: TransferId, sequence: u64, event: TransferEvent) {
        let envelope: TransferEventEnvelope = envelope(transfer.into(), sequence, event);
        self.raw(
            &self.transfers,
            &wire::encode_key(transfer),
            &wire::encode(&envelope),
        )
        .await;
    }

    /// Records acknowledged so far, on either topic.
    pub fn produced(&self) -> u64 {
        self.produced.load(Ordering::SeqCst)
    }
}

pub fn envelope<E>(stream: StreamId, sequence: u64, event: E) -> EventEnvelope<E> {
    EventEnvelope {
        schema_version: 1,
        event_id: EventId::new(),
        stream_id: stream,
        sequence,
        occurred_at: Utc::now(),
        command_id: CommandId::new(),
        causation_id: None,
        correlation_id: CorrelationId::new(),
        event,
    }
}

// Events, amounts in minor units. The projector takes balances from
// `balance_after` instead of adding amounts up, so callers pass it, kept
// consistent with the amounts themselves.

pub fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

pub fn amount(minor: i64) -> Amount {
    Amount::new(minor).unwrap()
}

pub fn opened(holder: &str) -> AccountEvent {
    AccountEvent::AccountOpened {
        holder: Holder::parse(holder).unwrap(),
        currency: eur(),
    }
}

pub fn deposited(minor: i64, after: i64) -> AccountEvent {
    AccountEvent::MoneyDeposited {
        amount: amount(minor),
        balance_after: Money::new(after),
    }
}

pub fn withdrawn(minor: i64, after: i64) -> AccountEvent {
    AccountEvent::MoneyWithdrawn {
        amount: amount(minor),
        balance_after: Money::new(after),
    }
}

pub fn debited(transfer: TransferId, to: AccountId, minor: i64, after: i64) -> AccountEvent {
    AccountEvent::TransferDebited {
        transfer_id: transfer,
        to,
        amount: amount(minor),
        currency: eur(),
        balance_after: Money::new(after),
    }
}

pub fn credited(transfer: TransferId, from: AccountId, minor: i64, after: i64) -> AccountEvent {
    AccountEvent::TransferCredited {
        transfer_id: transfer,
        from,
        amount: amount(minor),
        balance_after: Money::new(after),
        deadline: None,
    }
}

/// Refunded because the account to credit was closed.
pub fn refunded(transfer: TransferId, minor: i64, after: i64) -> AccountEvent {
    AccountEvent::TransferRefunded {
        transfer_id: transfer,
        amount: amount(minor),
        reason: TransferFailureReason::AccountClosed,
        balance_after: Money::new(after),
    }
}

pub fn completed(from: AccountId, to: AccountId, minor: i64) -> TransferEvent {
    TransferEvent::TransferCompleted {
        from,
        to,
        amount: amount(minor),
        currency: eur(),
    }
}

/// Failed because the account to credit was closed.
pub fn failed(from: AccountId, to: AccountId, minor: i64) -> TransferEvent {
    TransferEvent::TransferFailed {
        from,
        to,
        amount: amount(minor),
        currency: eur(),
        reason: TransferFailureReason::AccountClosed,
    }
}
