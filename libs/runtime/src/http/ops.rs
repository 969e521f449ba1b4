//! The ops endpoints every service serves (`/healthz`, `/readyz`, `/metrics`,
//! `/topics`) and its OpenAPI document (`/openapi.json`), so an
//! orchestrator, Prometheus, the CLI and API clients see every service the
//! same way. Each is documented by its `#[utoipa::path]` and registered with
//! it (see `openapi`).

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use std::sync::Arc;

use super::{Auth, MetricsRegistry, Readiness, ReadinessReport, TopicsReport};

/// What the ops endpoints need from a service.
#[derive(Debug, Clone)]
pub struct OpsState {
    pub readiness: Readiness,
    pub metrics: MetricsRegistry,
    /// The topic layout `/topics` shows (empty until the service sets it).
    pub topics: Arc<TopicsReport>,
    /// The document `/openapi.json` serves (set when serving starts, once
    /// the service's API is known).
    pub openapi: Arc<serde_json::Value>,
}

const OPEN_METRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The ops routes with their documentation; `/metrics` apart, as its guard
/// differs.
pub(super) fn documented() -> OpenApiRouter<OpsState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(topics))
        .routes(routes!(openapi_json))
        .merge(metrics_route())
}

/// `/metrics`, with the 401 it answers when the service has a metrics token.
fn metrics_route() -> OpenApiRouter<OpsState> {
    let mut route = OpenApiRouter::new().routes(routes!(metrics));
    for (_, _, operation) in super::openapi::operations_mut(route.get_openapi_mut()) {
        super::openapi::add_errors(operation, 401, &["invalid_token", "unauthorized"]);
    }
    route
}

/// `/healthz` (the process is alive), `/readyz` (every readiness check passes),
/// `/metrics` (Prometheus text), `/topics` (the topic layout), `/openapi.json`.
/// Merge it into the service's own router. They answer without a token (an
/// orchestrator's probes carry none; the layout names topics, nothing in
/// them; the document is public), except `/metrics` when `auth` has a
/// metrics token.
pub fn ops_router(state: OpsState, auth: &Auth) -> Router {
    let (metrics, _) = metrics_route().split_for_parts();
    let (open, _) = OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(topics))
        .routes(routes!(openapi_json))
        .split_for_parts();
    open.merge(auth.protect_metrics(metrics)).with_state(state)
}

/// `/healthz`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Health {
    /// Always `ok`: the process answers.
    #[schema(pattern = "^ok$", example = "ok")]
    status: String,
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "Alive", body = Health)))]
async fn healthz() -> impl IntoResponse {
    axum::Json(json!({ "status": "ok" }))
}

/// Every readiness check passes: traffic may be routed here.
#[utoipa::path(get, path = "/readyz", tag = "ops", responses(
    (status = 200, description = "Ready", body = ReadinessReport),
    (status = 503, description = "Not ready; the checks say why", body = ReadinessReport),
))]
async fn readyz(State(state): State<OpsState>) -> impl IntoResponse {
    let report = state.readiness.report();
    let status = if report.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(report))
}

/// The metrics, in the OpenMetrics text format. Open, unless the service
/// has a metrics token (`auth.metrics_token`): then only for that token (401).
#[utoipa::path(get, path = "/metrics", tag = "ops", responses(
    (status = 200, description = "Every metric of the instance",
        content_type = "application/openmetrics-text", body = String),
))]
async fn metrics(State(state): State<OpsState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, OPEN_METRICS)],
        state.metrics.encode(),
    )
}

/// The topic layout this instance creates and uses.
#[utoipa::path(get, path = "/topics", tag = "ops",
    responses((status = 200, description = "The layout", body = TopicsReport)))]
async fn topics(State(state): State<OpsState>) -> impl IntoResponse {
    axum::Json(state.topics.as_ref().clone())
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "ops", responses(
    (status = 200, description = "The service's OpenAPI 3.1 document", body = serde_json::Value)))]
async fn openapi_json(State(state): State<OpsState>) -> impl IntoResponse {
    axum::Json(state.openapi.as_ref().clone())
}
