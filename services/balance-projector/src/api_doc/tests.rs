//! The document against the contract (DESIGN.md) and against the router:
//! every documented operation is served behind the scope it names.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use eventbank_runtime::http::{Auth, MetricsRegistry, Scope};
use eventbank_runtime::kafka::KafkaSettings;
use eventbank_testkit::auth::scope_token;
use eventbank_testkit::{Isolation, TestEnv};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::api::{ApiState, router};
use crate::metrics::ProjectorMetrics;
use crate::rebuild::Projectors;
use crate::settings::ProjectorSettings;
use crate::store::Store;

use eventbank_runtime::http::openapi::{operations, operations_mut};

/// The routes `api::documented` registers are the document's (utoipa-axum
/// registers each with its description); this holds them to the
/// contract (DESIGN.md) and each to the scope its guard checks.
#[test]
fn the_document_lists_the_contracts_operations_with_their_scopes() {
    let mut doc = crate::api::openapi();
    let expected = [
        ("GET /accounts", Some("read")),
        ("GET /accounts/{id}", Some("read")),
        ("GET /accounts/{id}/transactions", Some("read")),
        ("GET /transfers/{id}", Some("read")),
        ("GET /admin/generation", Some("admin")),
        ("POST /admin/rebuild", Some("admin")),
        ("GET /healthz", None),
        ("GET /readyz", None),
        ("GET /metrics", None),
        ("GET /topics", None),
        ("GET /openapi.json", None),
    ];
    assert_eq!(
        operations(&doc),
        expected.iter().map(|(op, _)| (*op).to_owned()).collect()
    );
    for (method, path, operation) in operations_mut(&mut doc) {
        let op = format!("{method} {path}");
        let scope = expected.iter().find(|(name, _)| *name == op).unwrap().1;
        let security = serde_json::to_value(&operation.security).unwrap();
        assert_eq!(security[0]["bearer"][0].as_str(), scope, "{op}");
        assert_eq!(
            operation.responses.responses.contains_key("401"),
            scope.is_some() || path == "/metrics",
            "{op}"
        );
    }
}

/// The router on an empty, private read model in the test Redis.
async fn app() -> Router {
    let isolation = Isolation::new("bp-document");
    let store = Store::connect(&TestEnv::get().redis_url, &isolation.redis_prefix())
        .await
        .expect("the test Redis");
    let registry = MetricsRegistry::new("balance-projector", "test");
    let projectors = Projectors {
        static_member: None,
        kafka: KafkaSettings::default(),
        settings: ProjectorSettings::default(),
        store: store.clone(),
        metrics: ProjectorMetrics::register(&registry),
        tracker: TaskTracker::new(),
        shutdown: CancellationToken::new(),
    };
    let state = ApiState {
        store,
        read_wait: Duration::from_millis(10),
        projectors,
    };
    let auth = Auth::from_settings(&eventbank_testkit::auth::settings()).unwrap();
    router(state, &auth).into()
}

async fn ask(app: &Router, method: &Method, path: &str, token: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    eventbank_testkit::http::oneshot(app, request).await
}

#[tokio::test]
async fn every_documented_operation_is_served_behind_its_scope() {
    let mut doc = crate::api::openapi();
    let app = app().await;
    let mut checked = 0;
    for (method, path, operation) in operations_mut(&mut doc) {
        let security = serde_json::to_value(&operation.security).unwrap();
        let Some(scope) = security[0]["bearer"][0].as_str() else {
            continue; // the ops endpoints: the runtime's, checked there
        };
        let scope = Scope::ALL
            .into_iter()
            .find(|s| s.as_str() == scope)
            .unwrap();
        let method: Method = method.parse().unwrap();
        let uri = path.replace("{id}", &uuid::Uuid::new_v4().to_string());
        // A route that is not there answers 404 before any guard; a 403
        // is the guard of a route that is.
        for other in Scope::ALL.into_iter().filter(|other| *other != scope) {
            let (status, _) = ask(&app, &method, &uri, &scope_token(other)).await;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{method} {path} with {other}"
            );
        }
        // Reads reach their handler (a rebuild would start a projector).
        if method == Method::GET {
            let (status, body) = ask(&app, &method, &uri, &scope_token(scope)).await;
            assert!(
                status.is_success()
                    || body["error"]["code"]
                        .as_str()
                        .is_some_and(|c| c.ends_with("_not_found") && c != "route_not_found"),
                "{method} {path} with {scope}: {status} {body}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 6);
}
