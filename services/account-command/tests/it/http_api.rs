//! Every endpoint of the command API, success and error paths, over real HTTP
//! against the real broker with the processor running.

use crate::common;

use common::{ProcessorProcess, Running, settings};
use eventbank_events::{CommandEnvelope, TopicKind, wire};
use eventbank_testkit::bank::BankClient;
use eventbank_testkit::log::{account_events, assert_streams_consistent, read_topic};
use eventbank_testkit::{Isolation, TestEnv, eventually};
use reqwest::StatusCode;
use serde_json::json;

async fn bank(name: &str) -> (Isolation, Running, BankClient) {
    let isolation = Isolation::new(name);
    let running = Running::start(settings(&isolation, true, true, "p0")).await;
    let client = BankClient::new(running.base_url());
    (isolation, running, client)
}

#[tokio::test(flavor = "multi_thread")]
async fn account_lifecycle_answers_with_versions_balances_and_rejections() {
    let (isolation, running, client) = bank("lifecycle").await;

    let opened = client
        .post("/accounts", json!({"holder": "Ann", "currency": "EUR"}))
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{opened:?}");
    assert_eq!(opened.body["version"], 1);
    assert_eq!(opened.body["balance"], 0);
    assert_eq!(opened.body["holder"], "Ann");
    assert_eq!(opened.body["currency"], "EUR");
    let id = opened.body["account_id"]
        .as_str()
        .expect("account_id")
        .to_owned();

    let deposited = client
        .post(&format!("/accounts/{id}/deposits"), json!({"amount": 500}))
        .await;
    assert_eq!(deposited.status, StatusCode::OK, "{deposited:?}");
    assert_eq!(deposited.body["version"], 2);
    assert_eq!(deposited.body["balance"], 500);
    assert_eq!(deposited.body["account_id"], id.as_str());

    let withdrawn = client
        .post(
            &format!("/accounts/{id}/withdrawals"),
            json!({"amount": 200}),
        )
        .await;
    assert_eq!(withdrawn.status, StatusCode::OK, "{withdrawn:?}");
    assert_eq!(
        (
            withdrawn.body["version"].as_u64(),
            withdrawn.body["balance"].as_i64()
        ),
        (Some(3), Some(300))
    );

    let overdrawn = client
        .post(
            &format!("/accounts/{id}/withdrawals"),
            json!({"amount": 301}),
        )
        .await;
    assert_eq!(
        overdrawn.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{overdrawn:?}"
    );
    assert_eq!(overdrawn.code(), "insufficient_funds");

    let too_large = client
        .post(
            &format!("/accounts/{id}/deposits"),
            json!({"amount": i64::MAX}),
        )
        .await;
    assert_eq!(too_large.code(), "amount_too_large", "{too_large:?}");

    let not_empty = client
        .post(&format!("/accounts/{id}/close"), json!({}))
        .await;
    assert_eq!(
        not_empty.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{not_empty:?}"
    );
    assert_eq!(not_empty.code(), "balance_not_zero");

    let emptied = client
        .post(
            &format!("/accounts/{id}/withdrawals"),
            json!({"amount": 300}),
        )
        .await;
    assert_eq!(emptied.body["balance"], 0, "{emptied:?}");
    let closed = client
        .send(
            reqwest::Method::POST,
            &format!("/accounts/{id}/close"),
            None,
            None,
        )
        .await
        .expect("close without a body");
    assert_eq!(closed.status, StatusCode::OK, "{closed:?}");
    assert_eq!(closed.body["version"], 5);

    let after_close = client
        .post(&format!("/accounts/{id}/deposits"), json!({"amount": 1}))
        .await;
    assert_eq!(
        after_close.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{after_close:?}"
    );
    assert_eq!(after_close.code(), "account_closed");

    let unknown = uuid::Uuid::new_v4();
    let missing = client
        .post(
            &format!("/accounts/{unknown}/deposits"),
            json!({"amount": 1}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{missing:?}");
    assert_eq!(missing.code(), "account_not_found");

    // The log holds exactly the accepted changes: open, deposit, withdraw,
    // withdraw, close — no event for any rejection.
    let kafka = TestEnv::get().kafka_settings(&isolation.topic_prefix());
    let streams = account_events(&kafka).await;
    assert_streams_consistent(&streams);
    let types: Vec<_> = streams
        .values()
        .next()
        .expect("one stream")
        .iter()
        .map(|e| e.event.event_type())
        .collect();
    assert_eq!(
        types,
        [
            "account_opened",
            "money_deposited",
            "money_withdrawn",
            "money_withdrawn",
            "account_closed"
        ]
    );
    running.stop().await;
}

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

    let http = reqwest::Client::new();
    let syntax = http
        .post(format!("{}{deposits}", client.base))
        .header("content-type", "application/json")
        .body("{\"amount\": ")
        .send()
        .await
        .expect("send");
    assert_eq!(syntax.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = syntax.json().await.expect("json error");
    assert_eq!(body["error"]["code"], "invalid_json");

    let huge = http
        .post(format!("{}/accounts", client.base))
        .header("content-type", "application/json")
        .body(format!(
            "{{\"holder\":\"{}\",\"currency\":\"EUR\"}}",
            "x".repeat(1 << 20)
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = huge.json().await.expect("json error");
    assert_eq!(body["error"]["code"], "payload_too_large");

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

#[tokio::test(flavor = "multi_thread")]
async fn transfers_debit_the_source_and_commands_can_be_looked_up() {
    let (_isolation, running, client) = bank("transfers").await;
    let from = client.open("Ann", "EUR").await;
    let to = client.open("Bo", "EUR").await;
    let funded = client
        .post(
            &format!("/accounts/{from}/deposits"),
            json!({"amount": 1000}),
        )
        .await;
    let command_id = funded.body["command_id"]
        .as_str()
        .expect("command_id")
        .to_owned();

    let transfer = client
        .post("/transfers", json!({"from": from, "to": to, "amount": 400}))
        .await;
    assert_eq!(transfer.status, StatusCode::ACCEPTED, "{transfer:?}");
    assert_eq!(transfer.body["status"], "pending");
    assert!(
        transfer.body["transfer_id"]
            .as_str()
            .is_some_and(|t| uuid::Uuid::parse_str(t).is_ok())
    );
    assert_eq!(transfer.body["balance"], 600);

    let broke = client
        .post("/transfers", json!({"from": to, "to": from, "amount": 1}))
        .await;
    assert_eq!(broke.status, StatusCode::UNPROCESSABLE_ENTITY, "{broke:?}");
    assert_eq!(broke.code(), "insufficient_funds");

    let ghost = uuid::Uuid::new_v4();
    let no_source = client
        .post("/transfers", json!({"from": ghost, "to": to, "amount": 1}))
        .await;
    assert_eq!(no_source.status, StatusCode::NOT_FOUND, "{no_source:?}");
    assert_eq!(no_source.code(), "account_not_found");

    let looked_up = client.get(&format!("/commands/{command_id}")).await;
    assert_eq!(looked_up.status, StatusCode::OK, "{looked_up:?}");
    assert_eq!(looked_up.body["balance"], 1000);
    assert_eq!(looked_up.body["status"], "accepted");

    let unknown = client
        .get(&format!("/commands/{}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "command_not_found");
    let invalid = client.get("/commands/123").await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeated_idempotency_key_returns_the_first_outcome_and_appends_nothing() {
    let (isolation, running, client) = bank("idempotency").await;
    let id = client.open("Ann", "EUR").await;
    let path = format!("/accounts/{id}/deposits");
    let first = client
        .settle(&path, Some(json!({"amount": 250})), "deposit-1")
        .await;
    let second = client
        .settle(&path, Some(json!({"amount": 250})), "deposit-1")
        .await;
    assert_eq!(first.status, StatusCode::OK, "{first:?}");
    assert_eq!(
        first.body, second.body,
        "same outcome, same version, same command id"
    );

    // A repeated open with one key opens one account, not two.
    let open_a = client
        .settle(
            "/accounts",
            Some(json!({"holder": "Cy", "currency": "USD"})),
            "open-cy",
        )
        .await;
    let open_b = client
        .settle(
            "/accounts",
            Some(json!({"holder": "Cy", "currency": "USD"})),
            "open-cy",
        )
        .await;
    assert_eq!(open_a.body["account_id"], open_b.body["account_id"]);

    let kafka = TestEnv::get().kafka_settings(&isolation.topic_prefix());
    let streams = account_events(&kafka).await;
    assert_streams_consistent(&streams);
    assert_eq!(streams.len(), 2, "two accounts");
    let ann = streams
        .values()
        .find(|s| s.len() != 1)
        .expect("Ann's stream");
    assert_eq!(
        ann.len(),
        2,
        "opened + one deposit, however often it was sent"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_result_is_answered_202_and_can_be_fetched_later() {
    let isolation = Isolation::new("pending");
    let mut api_settings = settings(&isolation, true, false, "api");
    api_settings.api.result_timeout_ms = 300;
    let api = Running::start(api_settings).await;
    let client = BankClient::new(api.base_url());

    // No processor yet: the command waits in the topic.
    let reply = client
        .post("/accounts", json!({"holder": "Di", "currency": "EUR"}))
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{reply:?}");
    assert_eq!(reply.body["status"], "pending");
    let url = reply.body["result_url"]
        .as_str()
        .expect("result_url")
        .to_owned();
    assert!(url.starts_with("/commands/"), "{url}");

    let processor = ProcessorProcess::spawn(&isolation, "p0");
    let done = eventually("the pending command's result", common::LONG, || {
        let client = client.clone();
        let url = url.clone();
        async move {
            let reply = client.get(&url).await;
            (reply.status == StatusCode::OK || reply.status == StatusCode::CREATED).then_some(reply)
        }
    })
    .await;
    assert_eq!(done.body["version"], 1, "{done:?}");
    processor.terminate();
    api.stop().await;
}
