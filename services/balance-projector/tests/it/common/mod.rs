//! Harness for the projector's integration tests: the real projector in the
//! test process on one test's own topics and Redis keyspace, and readers of
//! its HTTP API and metrics. Tests write events with testkit's
//! `RecordWriter` (no command side, so a test can write gaps and poison).

use std::time::Duration;

use balance_projector::store::Store;
use balance_projector::{App, Settings};
use eventbank_events::AccountId;
use eventbank_runtime::Service;
use eventbank_testkit::{InProcess, Isolation, TestEnv, eventually, local_http};
use serde_json::Value;

pub mod dump;

pub const LONG: Duration = Duration::from_secs(60);

/// A projector on `isolation`'s topics and Redis keyspace; the rest default.
pub fn settings(isolation: &Isolation) -> Settings {
    let env = TestEnv::get();
    let mut settings = Settings {
        instance: "test".to_owned(),
        http: local_http(),
        kafka: env.kafka_settings(&isolation.topic_prefix()),
        auth: eventbank_testkit::auth::settings(),
        ..Settings::default()
    };
    settings.redis.url = env.redis_url.clone();
    settings.redis.key_prefix = isolation.redis_prefix();
    settings
}

/// A projector in the test's runtime (testkit's [`InProcess`]) with what
/// the tests read through: its HTTP API and, behind its back, its store.
pub struct Running {
    pub base: String,
    pub store: Store,
    service: InProcess<App>,
}

impl Running {
    pub async fn start(settings: Settings) -> Self {
        let app = App::build(settings).await.expect("build balance-projector");
        let store = app.store().clone();
        let service = InProcess::run(app);
        Self {
            base: service.base_url(),
            store,
            service,
        }
    }

    pub async fn start_ready(settings: Settings) -> Self {
        let running = Self::start(settings).await;
        running.wait_ready().await;
        running
    }

    pub async fn stop(self) {
        self.service.stop().await;
    }

    /// Status, the `x-read-model-behind` header and the JSON body (`Null`
    /// when there is none).
    pub async fn get(&self, path: &str) -> (u16, Option<String>, Value) {
        let response = eventbank_testkit::http::client()
            .get(format!("{}{path}", self.base))
            .send()
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
        let response = eventbank_testkit::http::client()
            .post(format!("{}{path}", self.base))
            .send()
            .await
            .expect("POST");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn metrics(&self) -> Option<String> {
        eventbank_testkit::metrics::scrape(&self.base).await
    }

    pub async fn wait_ready(&self) {
        self.service.wait_ready().await;
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
