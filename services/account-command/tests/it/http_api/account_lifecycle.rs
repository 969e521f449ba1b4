//! An account from opening to closing: each answer's version and balance,
//! each business rejection's code, and only the accepted changes logged.

use eventbank_testkit::TestEnv;
use eventbank_testkit::log::{account_events, assert_streams_consistent};
use reqwest::StatusCode;
use serde_json::json;

use super::bank;

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

    let deposited = client.deposit(&id, 500).await;
    assert_eq!(deposited.status, StatusCode::OK, "{deposited:?}");
    assert_eq!(deposited.body["version"], 2);
    assert_eq!(deposited.body["balance"], 500);
    assert_eq!(deposited.body["account_id"], id.as_str());

    let withdrawn = client.withdraw(&id, 200).await;
    assert_eq!(withdrawn.status, StatusCode::OK, "{withdrawn:?}");
    assert_eq!(
        (
            withdrawn.body["version"].as_u64(),
            withdrawn.body["balance"].as_i64()
        ),
        (Some(3), Some(300))
    );

    let overdrawn = client.withdraw(&id, 301).await;
    overdrawn.assert_refused("insufficient_funds");

    let too_large = client.deposit(&id, i64::MAX).await;
    assert_eq!(too_large.code(), "amount_too_large", "{too_large:?}");

    let not_empty = client
        .post(&format!("/accounts/{id}/close"), json!({}))
        .await;
    not_empty.assert_refused("balance_not_zero");

    let emptied = client.withdraw(&id, 300).await;
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

    let after_close = client.deposit(&id, 1).await;
    after_close.assert_refused("account_closed");

    let unknown = uuid::Uuid::new_v4();
    let missing = client.deposit(&unknown, 1).await;
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
