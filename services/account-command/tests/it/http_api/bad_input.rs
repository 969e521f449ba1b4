//! Requests the API refuses before anything is logged: a 400-class JSON
//! error that names what was wrong.

use eventbank_events::{CommandEnvelope, TopicKind, wire};
use eventbank_testkit::TestEnv;
use eventbank_testkit::log::read_topic;
use reqwest::StatusCode;
use serde_json::json;

use super::bank;

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_a_json_error_naming_the_field() {
    let (isolation, running, client) = bank("validation").await;
    let id = client.open("Bo", "EUR").await;
    let deposits = format!("/accounts/{id}/deposits");

    let cases = [
        (
            "/accounts",
            json!({"holder": "Ann", "currency": "eur"}),
            "invalid_currency",
        ),
        (
            "/accounts",
            json!({"holder": "", "currency": "EUR"}),
            "invalid_holder",
        ),
        (
            "/accounts",
            json!({"holder": "Ann", "currency": "EUR", "admin": true}),
            "unknown_field",
        ),
        (deposits.as_str(), json!({"amount": -5}), "invalid_amount"),
        (deposits.as_str(), json!({"amount": 0}), "invalid_amount"),
        (deposits.as_str(), json!({"amount": 10.5}), "invalid_amount"),
        (
            deposits.as_str(),
            json!({"amount": "500"}),
            "invalid_amount",
        ),
        (
            "/accounts/not-a-uuid/deposits",
            json!({"amount": 5}),
            "invalid_account_id",
        ),
        (
            "/transfers",
            json!({"from": id, "to": "nope", "amount": 5}),
            "invalid_account_id",
        ),
        (
            "/transfers",
            json!({"from": id, "to": id, "amount": 5}),
            "same_account",
        ),
        (
            "/transfers",
            json!({"from": id, "to": uuid::Uuid::new_v4(), "amount": 0}),
            "invalid_amount",
        ),
        (
            "/transfers",
            json!({"from": id, "to": uuid::Uuid::new_v4(), "amount": -7}),
            "invalid_amount",
        ),
    ];
    for (path, body, code) in cases {
        let reply = client.post(path, body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{path} {body}: {reply:?}"
        );
        assert_eq!(reply.code(), code, "{path} {body}: {reply:?}");
        assert!(
            reply.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }

    // Refused before anything was logged: no transfer leg reached Kafka.
    let settings = TestEnv::get().kafka_settings(&isolation.topic_prefix());
    let logged = read_topic(&settings, TopicKind::AccountCommands, false).await;
    assert!(!logged.is_empty(), "the account's opening is on the log");
    for record in logged {
        let command: CommandEnvelope =
            wire::decode(record.payload.as_deref().unwrap_or_default()).expect("command");
        assert_eq!(command.command.transfer_id(), None, "{command:?}");
    }

    let missing = client.post(&deposits, json!({})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{missing:?}");
    assert!(missing.code().contains("amount"), "{missing:?}");

    // Raw bodies, sent as they are: one cut short, one over the size limit.
    let base = &client.base;
    let post_text = |path: String, text: String| async move {
        let response = eventbank_testkit::http::client()
            .post(format!("{base}{path}"))
            .header("content-type", "application/json")
            .body(text)
            .send()
            .await
            .expect("send");
        let status = response.status();
        let body: serde_json::Value = response.json().await.expect("json error");
        (status, body["error"]["code"].clone())
    };
    let syntax = post_text(deposits.clone(), "{\"amount\": ".to_owned()).await;
    assert_eq!(syntax, (StatusCode::BAD_REQUEST, json!("invalid_json")));
    let holder = "x".repeat(1 << 20);
    let huge = post_text(
        "/accounts".to_owned(),
        format!("{{\"holder\":\"{holder}\",\"currency\":\"EUR\"}}"),
    )
    .await;
    assert_eq!(
        huge,
        (StatusCode::PAYLOAD_TOO_LARGE, json!("payload_too_large"))
    );

    let bad_key = client
        .send(
            reqwest::Method::POST,
            &deposits,
            Some(json!({"amount": 1})),
            Some(&"k".repeat(500)),
        )
        .await
        .expect("send");
    assert_eq!(bad_key.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_key.code(), "invalid_idempotency_key");

    let unknown_route = client.get("/nowhere").await;
    assert_eq!(unknown_route.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown_route.code(), "route_not_found");
    running.stop().await;
}
