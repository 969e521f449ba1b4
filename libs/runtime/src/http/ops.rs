//! The ops endpoints every service serves (`/healthz`, `/readyz`, `/metrics`),
//! so an orchestrator and Prometheus see every service the same way.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;

use super::{Auth, MetricsRegistry, Readiness};

/// What the ops endpoints need from a service.
#[derive(Debug, Clone)]
pub struct OpsState {
    pub readiness: Readiness,
    pub metrics: MetricsRegistry,
}

/// `/healthz` (the process is alive), `/readyz` (every readiness check passes),
/// `/metrics` (Prometheus text). Merge it into the service's own router.
/// They answer without a token (an orchestrator's probes carry none), except
/// `/metrics` when `auth` has a metrics token.
pub fn ops_router(state: OpsState, auth: &Auth) -> Router {
    let metrics = auth.protect_metrics(Router::new().route("/metrics", get(metrics)));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
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
