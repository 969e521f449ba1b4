//! The ops endpoints every service serves (`/healthz`, `/readyz`, `/metrics`,
//! `/topics`), so an orchestrator, Prometheus and the CLI see every service the
//! same way.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;

use std::sync::Arc;

use super::{Auth, MetricsRegistry, Readiness, TopicsReport};

/// What the ops endpoints need from a service.
#[derive(Debug, Clone)]
pub struct OpsState {
    pub readiness: Readiness,
    pub metrics: MetricsRegistry,
    /// The topic layout `/topics` shows (empty until the service sets it).
    pub topics: Arc<TopicsReport>,
}

/// `/healthz` (the process is alive), `/readyz` (every readiness check passes),
/// `/metrics` (Prometheus text), `/topics` (the topic layout). Merge it into
/// the service's own router. They answer without a token (an orchestrator's
/// probes carry none; the layout names topics, nothing in them), except
/// `/metrics` when `auth` has a metrics token.
pub fn ops_router(state: OpsState, auth: &Auth) -> Router {
    let metrics = auth.protect_metrics(Router::new().route("/metrics", get(metrics)));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/topics", get(topics))
        .merge(metrics)
        .with_state(state)
}

async fn healthz() -> impl IntoResponse {
    axum::Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<OpsState>) -> impl IntoResponse {
    let report = state.readiness.report();
    let status = if report.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(report))
}

async fn metrics(State(state): State<OpsState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
}

async fn topics(State(state): State<OpsState>) -> impl IntoResponse {
    axum::Json(state.topics.as_ref().clone())
}
