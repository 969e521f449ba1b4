//! The OpenAPI document against the router: every route served is in the
//! document with the scope its guard requires, and nothing else is.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use eventbank_runtime::http::{Auth, Scope, openapi};
use eventbank_testkit::auth::scope_token;
use rdkafka::ClientConfig;
use rdkafka::producer::FutureProducer;
use serde_json::Value;

use super::router;
use crate::api::AppState;
use crate::api::dispatch::CommandSender;
use crate::api::json::BodyLimit;
use crate::api::metrics::ApiMetrics;
use crate::api::result_store::ResultStore;

fn app() -> Router {
    let producer: FutureProducer = ClientConfig::new()
        // Nothing listens there: no request here gets as far as producing.
        .set("bootstrap.servers", "127.0.0.1:9")
        .set("log_level", "0")
        .create()
        .expect("producer");
    let results = ResultStore::new(10);
    let sender = CommandSender::new(
        producer,
        "account-commands".to_owned(),
        results,
        ApiMetrics::unregistered(),
        Duration::from_millis(100),
    );
    let state = AppState {
        sender: Arc::new(sender),
        body_limit: BodyLimit(256),
    };
    let auth = Auth::from_settings(&eventbank_testkit::auth::settings()).unwrap();
    router(state, &auth).into()
}

/// Status and error code of `method path` with `token`; POSTs carry a body
/// that fails validation, so nothing is produced.
async fn ask(app: &Router, method: &str, path: &str, token: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(if method == "POST" { "[]" } else { "" }))
        .unwrap();
    eventbank_testkit::http::oneshot(app, request).await
}

#[tokio::test]
async fn every_documented_operation_is_served_behind_its_documented_scope() {
    let mut doc = crate::api::openapi();
    let documented = openapi::operations(&doc);
    let expected: BTreeSet<String> = [
        "POST /accounts",
        "POST /accounts/{id}/deposits",
        "POST /accounts/{id}/withdrawals",
        "POST /accounts/{id}/close",
        "POST /transfers",
        "GET /commands/{command_id}",
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
        "GET /topics",
        "GET /openapi.json",
    ]
    .map(str::to_owned)
    .into();
    assert_eq!(documented, expected);

    let app = app();
    let id = uuid::Uuid::new_v4().to_string();
    let mut checked = 0;
    for (method, path, operation) in openapi::operations_mut(&mut doc) {
        // The ops endpoints are the runtime's, checked there.
        let Some(security) = &operation.security else {
            continue;
        };
        let scope = serde_json::to_value(security).unwrap()[0]["bearer"][0]
            .as_str()
            .unwrap()
            .to_owned();
        let scope = Scope::ALL
            .into_iter()
            .find(|s| s.as_str() == scope)
            .unwrap();
        let answers = serde_json::to_value(&operation.responses).unwrap();
        let (_, success) = answers
            .as_object()
            .unwrap()
            .iter()
            .find(|(status, _)| status.starts_with('2'))
            .unwrap();
        assert!(
            success["headers"].get("Command-Id").is_some(),
            "{method} {path}: {answers}"
        );
        let uri = path.replace("{id}", &id).replace("{command_id}", &id);
        let (status, body) = ask(&app, &method, &uri, &scope_token(scope)).await;
        assert!(
            ![401, 403, 404, 405].contains(&status.as_u16())
                || body["error"]["code"] == "command_not_found",
            "{method} {path} with its documented scope {scope}: {status} {body}"
        );
        for other in Scope::ALL.into_iter().filter(|other| *other != scope) {
            let (status, body) = ask(&app, &method, &uri, &scope_token(other)).await;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{method} {path} with {other}: {body}"
            );
        }
        checked += 1;
    }
    assert_eq!(
        checked, 6,
        "every API operation is guarded and documented so"
    );
}
