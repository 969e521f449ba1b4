//! Transfers, command look-ups, idempotency keys and results that come late:
//! what a client sees of a command after sending it.

use crate::common::{self, ProcessorProcess, Running, settings};
use eventbank_testkit::bank::BankClient;
use eventbank_testkit::log::{account_events, assert_streams_consistent};
use eventbank_testkit::{Isolation, TestEnv, eventually};
use reqwest::StatusCode;
use serde_json::json;

use super::bank;

#[tokio::test(flavor = "multi_thread")]
async fn transfers_debit_the_source_and_commands_can_be_looked_up() {
    let (_isolation, running, client) = bank("transfers").await;
    let from = client.open("Ann", "EUR").await;
    let to = client.open("Bo", "EUR").await;
    let funded = client.deposit(&from, 1000).await;
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
    broke.assert_refused("insufficient_funds");

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
    let open = || {
        let body = json!({"holder": "Cy", "currency": "USD"});
        client.settle("/accounts", Some(body), "open-cy")
    };
    let open_a = open().await;
    let open_b = open().await;
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
