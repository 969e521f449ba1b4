//! The HTTP command API: puts commands on `account-commands` and answers with
//! their outcome from `command-results` (DESIGN.md, "Commands over HTTP").
//!
//! | method, path                      | body                        | success |
//! |-----------------------------------|-----------------------------|---------|
//! | `POST /accounts`                  | `{"holder","currency"}`     | 201 `{"account_id","version","holder","currency","balance","command_id"}` |
//! | `POST /accounts/{id}/deposits`    | `{"amount"}`                | 200 `{"account_id","version","balance","command_id"}` |
//! | `POST /accounts/{id}/withdrawals` | `{"amount"}`                | 200 as above |
//! | `POST /accounts/{id}/close`       | none, empty or `{}`         | 200 as above |
//! | `POST /transfers`                 | `{"from","to","amount"}`    | 202 `{"transfer_id","status":"pending","command_id","version","balance"}` |
//! | `GET /commands/{command_id}`      | –                           | 200 the original body + `"status":"accepted"` (see `command_lookup.rs`) |
//!
//! Errors are `{"error":{"code","message"}}`: rejections with their code's
//! status hint, input errors per `json`, `path` and `idempotency`, and
//! `503 kafka_unavailable` when the command cannot be produced. No result
//! within `api.result_timeout_ms` → 202 `{"command_id","status":"pending",
//! "result_url","account_id"[,"transfer_id"]}` with `Location` (see
//! `dispatch.rs`).
//!
//! Module map: `routes` (the router, and the OpenAPI document with it),
//! `schemas` and `documented_errors` (what the document says of bodies and
//! error codes), `accounts`, `transfers`,
//! `command_lookup` (handlers), `send_command` (the path every command
//! handler ends in), `json` (strict bodies), `body_parser` (the same bodies
//! parsed without a server, for the fuzz targets), `path` (path ids),
//! `idempotency` (the header and derived ids), `middleware` (correlation
//! id, span, latency), `dispatch` (produce and wait), `result_store` (cache
//! and waiters), `cache`, `listener` (the `command-results` consumer),
//! `outcome_responses` (bodies), `metrics`.

mod accounts;
pub mod body_parser;
mod cache;
mod command_lookup;
mod dispatch;
mod documented_errors;
pub mod idempotency;
mod json;
mod listener;
mod metrics;
mod middleware;
mod outcome_responses;
mod path;
mod result_store;
mod routes;
mod schemas;
mod send_command;
#[cfg(test)]
mod test_results;
mod transfers;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use eventbank_events::TopicKind;
use eventbank_runtime::http::{MetricsRegistry, Readiness};
use rdkafka::error::KafkaError;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use self::dispatch::CommandSender;
use self::json::BodyLimit;
use self::listener::ResultListener;
use self::metrics::ApiMetrics;
use self::result_store::ResultStore;

/// Name of the readiness check the results listener reports into.
pub const READINESS_CHECK: &str = "command-results";

/// Why the API could not start.
#[derive(Debug, thiserror::Error)]
pub enum ApiStartError {
    #[error("cannot create the command producer: {0}")]
    Producer(#[source] KafkaError),
    #[error("cannot set up the listener on {topic}: {source}")]
    Listener {
        topic: String,
        #[source]
        source: KafkaError,
    },
    #[error("topic {topic} does not exist (or has no partitions)")]
    MissingTopic { topic: String },
    #[error("the listener setup task failed: {0}")]
    Join(#[source] tokio::task::JoinError),
}

/// What every handler shares. Cheap to clone.
#[derive(Debug, Clone)]
struct AppState {
    sender: Arc<CommandSender>,
    body_limit: BodyLimit,
}

impl FromRef<AppState> for BodyLimit {
    fn from_ref(state: &AppState) -> Self {
        state.body_limit
    }
}

/// The running command API. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Api {
    state: AppState,
}

impl Api {
    /// Creates the idempotent command producer, starts the command-results
    /// listener as a task on `tracker` (it stops when `shutdown` is
    /// cancelled), registers the metrics and the readiness check
    /// `command-results`, which turns ready once the listener has read to the
    /// end of the topic. The topics must exist.
    pub async fn start(
        settings: &crate::Settings,
        metrics: &MetricsRegistry,
        readiness: &Readiness,
        tracker: &TaskTracker,
        shutdown: CancellationToken,
    ) -> Result<Self, ApiStartError> {
        let topics = settings.kafka.topics();
        let api_metrics = ApiMetrics::register(metrics);
        let results = ResultStore::new(settings.api.result_cache_capacity);
        let check = readiness.register(READINESS_CHECK);
        let listener = ResultListener::connect(
            &settings.kafka,
            topics.name(TopicKind::CommandResults),
            results.clone(),
            api_metrics.clone(),
            check,
        )
        .await?;
        let producer = settings.kafka.producer().map_err(ApiStartError::Producer)?;
        let sender = CommandSender::new(
            producer,
            topics.name(TopicKind::AccountCommands),
            results,
            api_metrics.clone(),
            Duration::from_millis(settings.api.result_timeout_ms),
        );
        tracker.spawn(listener.run(shutdown));
        Ok(Self {
            state: AppState {
                sender: Arc::new(sender),
                body_limit: BodyLimit(settings.api.max_body_bytes),
            },
        })
    }

    /// The API's routes only, each behind its scope in `auth`, with their
    /// OpenAPI description; `HttpServer` adds the ops endpoints, the
    /// document and the JSON 404 fallback.
    pub fn router(
        &self,
        auth: &eventbank_runtime::http::Auth,
    ) -> utoipa_axum::router::OpenApiRouter {
        routes::router(self.state.clone(), auth)
    }
}

/// The service's whole OpenAPI document, as `/openapi.json` serves it.
pub fn openapi() -> utoipa::openapi::OpenApi {
    eventbank_runtime::http::openapi::document(
        "account-command",
        env!("CARGO_PKG_VERSION"),
        routes::documented(&eventbank_runtime::http::Auth::disabled()).into_openapi(),
    )
}
