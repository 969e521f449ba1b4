//! The HTTP surface without a broker: validation, the 405/415/413 shapes,
//! the timeout path (a producer that cannot connect never acknowledges) and
//! answers from the result cache.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use chrono::Utc;
use eventbank_events::{AccountId, CommandOutcome, CommandResult, CorrelationId};
use rdkafka::ClientConfig;
use rdkafka::producer::FutureProducer;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::*;
use crate::api::dispatch::CommandSender;
use crate::api::idempotency::{IDEMPOTENCY_KEY, IdempotencyKey, RequestIds};
use crate::api::json::BodyLimit;
use crate::api::metrics::ApiMetrics;
use crate::api::middleware::CORRELATION_ID;
use crate::api::outcome_responses::IDEMPOTENT_REPLAYED;
use crate::api::result_store::ResultStore;
use crate::api::send_command::COMMAND_ID;
use crate::api::test_results::accepted;

fn app() -> (Router, ResultStore) {
    let producer: FutureProducer = ClientConfig::new()
        // Nothing listens there: records are queued, never acknowledged.
        .set("bootstrap.servers", "127.0.0.1:9")
        .set("log_level", "0")
        .create()
        .expect("producer");
    let results = ResultStore::new(100);
    let metrics = ApiMetrics::unregistered();
    let sender = CommandSender::new(
        producer,
        "account-commands".to_owned(),
        results.clone(),
        metrics,
        Duration::from_millis(100),
    );
    let state = AppState {
        sender: Arc::new(sender),
        body_limit: BodyLimit(256),
    };
    // Auth has its own tests (runtime, and this service's integration tests).
    (
        router(state, &eventbank_runtime::http::Auth::disabled()).into(),
        results,
    )
}

async fn call(
    router: &Router,
    method: &str,
    path: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if body.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("not JSON: {:?}", String::from_utf8_lossy(&bytes)));
    (status, headers, json)
}

fn code(json: &Value) -> &str {
    json["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn input_errors_are_json_with_a_code() {
    let (router, _) = app();
    let account = AccountId::new();
    let deposits = format!("/accounts/{account}/deposits");
    let cases: Vec<(&str, String, Option<String>, StatusCode, &str)> = vec![
        (
            "GET",
            "/accounts".into(),
            None,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            "DELETE",
            deposits.clone(),
            None,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            "POST",
            "/accounts/nope/deposits".into(),
            Some(r#"{"amount":1}"#.to_owned()),
            StatusCode::BAD_REQUEST,
            "invalid_account_id",
        ),
        (
            "POST",
            "/accounts/nope/close".into(),
            None,
            StatusCode::BAD_REQUEST,
            "invalid_account_id",
        ),
        (
            "GET",
            "/commands/123".into(),
            None,
            StatusCode::BAD_REQUEST,
            "invalid_command_id",
        ),
        (
            "POST",
            deposits.clone(),
            None,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "POST",
            deposits.clone(),
            Some(r#"{"amount":"#.to_owned()),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "POST",
            deposits.clone(),
            Some(r#"{"amount":0}"#.to_owned()),
            StatusCode::BAD_REQUEST,
            "invalid_amount",
        ),
        (
            "POST",
            deposits.clone(),
            Some(r#"{"amount":1,"memo":"x"}"#.to_owned()),
            StatusCode::BAD_REQUEST,
            "unknown_field",
        ),
        (
            "POST",
            deposits.clone(),
            Some("{}".to_owned()),
            StatusCode::BAD_REQUEST,
            "missing_amount",
        ),
        (
            "POST",
            "/accounts".into(),
            Some(r#"{"holder":"Ann"}"#.to_owned()),
            StatusCode::BAD_REQUEST,
            "missing_currency",
        ),
        (
            "POST",
            format!("/accounts/{account}/close"),
            Some(r#"{"force":true}"#.to_owned()),
            StatusCode::BAD_REQUEST,
            "unknown_field",
        ),
        (
            "POST",
            "/transfers".into(),
            Some(format!(
                r#"{{"from":"{account}","to":"{account}","amount":5}}"#
            )),
            StatusCode::BAD_REQUEST,
            "same_account",
        ),
        (
            "POST",
            "/transfers".into(),
            Some(format!(r#"{{"from":"{account}","to":"x","amount":5}}"#)),
            StatusCode::BAD_REQUEST,
            "invalid_account_id",
        ),
        (
            "POST",
            "/transfers".into(),
            Some(format!(r#"{{"from":"{account}","amount":5}}"#)),
            StatusCode::BAD_REQUEST,
            "missing_to",
        ),
        (
            "POST",
            "/accounts".into(),
            Some(format!(
                r#"{{"holder":"{}","currency":"EUR"}}"#,
                "x".repeat(300)
            )),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ];
    for (method, path, body, status, expected) in cases {
        let (got, _, json) = call(&router, method, &path, body.as_deref(), &[]).await;
        assert_eq!(
            (got, code(&json)),
            (status, expected),
            "{method} {path} {body:?}: {json}"
        );
        assert!(
            json["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let (status, _, json) = call(
        &router,
        "POST",
        &deposits,
        Some(r#"{"amount":1}"#),
        &[("idempotency-key", &"k".repeat(201))],
    )
    .await;
    assert_eq!(
        (status, code(&json)),
        (StatusCode::BAD_REQUEST, "invalid_idempotency_key")
    );
}

#[tokio::test]
async fn no_result_in_time_is_202_pending_with_every_id() {
    let (router, _) = app();
    let correlation = CorrelationId::new().to_string();
    let (status, headers, json) = call(
        &router,
        "POST",
        "/transfers",
        Some(&format!(
            r#"{{"from":"{}","to":"{}","amount":5}}"#,
            AccountId::new(),
            AccountId::new()
        )),
        &[("x-correlation-id", &correlation)],
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{json}");
    assert_eq!(json["status"], "pending");
    let command_id = json["command_id"].as_str().unwrap();
    assert_eq!(
        headers[header::LOCATION],
        format!("/commands/{command_id}").as_str()
    );
    assert_eq!(json["result_url"], format!("/commands/{command_id}"));
    assert_eq!(headers[COMMAND_ID], command_id);
    assert_eq!(headers[CORRELATION_ID], correlation.as_str());
    assert!(
        json["transfer_id"].is_string() && json["account_id"].is_string(),
        "{json}"
    );

    let (status, _, json) = call(
        &router,
        "GET",
        &format!("/commands/{command_id}"),
        None,
        &[],
    )
    .await;
    assert_eq!(
        (status, code(&json)),
        (StatusCode::NOT_FOUND, "command_not_found")
    );
}

#[tokio::test]
async fn a_known_idempotent_outcome_is_replayed_without_producing() {
    let (router, results) = app();
    let key = IdempotencyKey::parse(&"open-1".parse().unwrap()).unwrap();
    let ids = RequestIds::new(Some(&key), "POST /accounts");
    results.complete(accepted(ids.command_id(), ids.account_id(), 1, 0));
    let (status, headers, json) = call(
        &router,
        "POST",
        "/accounts",
        Some(r#"{"holder":"Ann","currency":"EUR"}"#),
        &[(IDEMPOTENCY_KEY.as_str(), "open-1")],
    )
    .await;
    // The producer cannot reach a broker: only the cache can answer 201.
    assert_eq!(status, StatusCode::CREATED, "{json}");
    assert_eq!(headers[IDEMPOTENT_REPLAYED], "true");
    assert_eq!(
        json,
        json!({
            "account_id": ids.account_id().to_string(),
            "version": 1,
            "holder": "Ann",
            "currency": "EUR",
            "balance": 0,
            "command_id": ids.command_id().to_string(),
        })
    );

    // Looked up later, without the request's context: the generic body.
    let (status, _, json) = call(
        &router,
        "GET",
        &format!("/commands/{}", ids.command_id()),
        None,
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["status"], "accepted");
    assert_eq!(json["account_id"], ids.account_id().to_string());
    assert_eq!(json["version"], 1);
}

#[tokio::test]
async fn a_known_rejection_is_replayed_with_its_status() {
    let (router, results) = app();
    let account = AccountId::new();
    let route = format!("POST /accounts/{account}/withdrawals");
    let key = IdempotencyKey::parse(&"w-1".parse().unwrap()).unwrap();
    let ids = RequestIds::new(Some(&key), &route);
    results.complete(CommandResult::new(
        ids.command_id(),
        account,
        CorrelationId::new(),
        Utc::now(),
        CommandOutcome::rejected(
            eventbank_events::RejectionCode::InsufficientFunds,
            "balance 0 < 5",
        ),
    ));
    let (status, headers, json) = call(
        &router,
        "POST",
        &format!("/accounts/{account}/withdrawals"),
        Some(r#"{"amount":5}"#),
        &[("idempotency-key", "w-1")],
    )
    .await;
    assert_eq!(
        (status, code(&json)),
        (StatusCode::UNPROCESSABLE_ENTITY, "insufficient_funds")
    );
    assert_eq!(headers[COMMAND_ID], ids.command_id().to_string().as_str());
}
