//! The document against the contract (DESIGN.md) and against the router:
//! every documented operation is served behind the scope it names.

use std::collections::BTreeSet;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use eventbank_runtime::http::{Auth, MetricsRegistry, Scope, StoreCalls};
use eventbank_testkit::auth::scope_token;
use serde_json::Value;

use crate::api::{ApiState, router};
use crate::db::Db;
use crate::metrics::AuditMetrics;
use crate::watch::Instruments;

use eventbank_runtime::http::openapi::{operations, operations_mut};

/// The routes `api::documented` registers are the document's (utoipa-axum
/// registers each with its description); this holds them to the
/// contract (DESIGN.md), each behind `audit`.
#[test]
fn the_document_lists_the_contracts_operations_with_their_scopes() {
    let mut doc = crate::api::openapi();
    let api = [
        "GET /audit/streams/{id}",
        "GET /audit/verify",
        "GET /audit/reconcile",
    ];
    let ops = [
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
        "GET /topics",
        "GET /openapi.json",
    ];
    assert_eq!(
        operations(&doc),
        api.iter().chain(&ops).map(|op| (*op).to_owned()).collect()
    );
    for (method, path, operation) in operations_mut(&mut doc) {
        let op = format!("{method} {path}");
        let security = serde_json::to_value(&operation.security).unwrap();
        let expected = api.contains(&op.as_str()).then_some("audit");
        assert_eq!(security[0]["bearer"][0].as_str(), expected, "{op}");
    }
    let stream = serde_json::to_value(&doc.paths.paths["/audit/streams/{id}"]).unwrap();
    let content = &stream["get"]["responses"]["200"]["content"];
    for media in ["application/json", "application/x-ndjson", "text/csv"] {
        assert!(content.get(media).is_some(), "{media}: {content}");
    }
}

/// A router whose database is not there: a request that passes the guard
/// reaches its handler, which answers 503 `database_unavailable`.
fn app() -> Router {
    let registry = MetricsRegistry::new("audit-log", "test");
    let state = ApiState {
        db: Db::new(&crate::PostgresSettings {
            url: "postgres://nobody@127.0.0.1:9/none".to_owned(),
            ..Default::default()
        })
        .unwrap(),
        instruments: Instruments {
            metrics: AuditMetrics::register(&registry),
            calls: StoreCalls::register(&registry, "postgres"),
        },
    };
    let auth = Auth::from_settings(&eventbank_testkit::auth::settings()).unwrap();
    router(state, &auth).into()
}

async fn ask(app: &Router, path: &str, token: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    eventbank_testkit::http::oneshot(app, request).await
}

#[tokio::test]
async fn every_documented_operation_is_served_behind_its_scope() {
    let doc = crate::api::openapi();
    let app = app();
    let mut served = BTreeSet::new();
    for operation in eventbank_runtime::http::openapi::operations(&doc) {
        let Some(path) = operation.strip_prefix("GET /audit/") else {
            continue;
        };
        let uri = format!(
            "/audit/{}",
            path.replace("{id}", &uuid::Uuid::new_v4().to_string())
        );
        let (status, body) = ask(&app, &uri, &scope_token(Scope::Audit)).await;
        assert_eq!(
            status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{operation}: {body}"
        );
        assert_eq!(body["error"]["code"], "database_unavailable", "{operation}");
        for other in [Scope::Read, Scope::Write, Scope::Admin] {
            let (status, _) = ask(&app, &uri, &scope_token(other)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{operation} with {other}");
        }
        served.insert(operation);
    }
    assert_eq!(served.len(), 3, "{served:?}");
}
