//! What a command id is bound to: a refusal stays a refusal when the account
//! appears later, and an idempotency key reused with another request is
//! refused whichever API instance it reaches.

use crate::common::{Running, settings};
use account_command::api::idempotency::{IdempotencyKey, RequestIds};
use chrono::Utc;
use eventbank_events::{
    AccountCommand, AccountEvent, AccountId, Amount, CommandId, Currency, RejectionCode, TransferId,
};
use eventbank_testkit::bank::BankClient;
use eventbank_testkit::commands::produce_commands;
use eventbank_testkit::log::{account_events, assert_streams_consistent};
use eventbank_testkit::{Isolation, TestEnv};
use reqwest::StatusCode;
use serde_json::json;

use super::direct::{await_results, envelope, rejection_code};

#[tokio::test(flavor = "multi_thread")]
async fn a_credit_refused_for_an_unopened_account_stays_refused_once_it_is_opened() {
    // The interleaving that created money: the saga's credit to the derived
    // id X of an unused key is refused (`account_not_found`) and the saga
    // refunds the source; then X is opened with that key; then the saga's
    // retry of the same credit (same command id, queued behind a pause)
    // arrives. It must get the first answer, not pay X as well.
    let isolation = Isolation::new("credit-before-open");
    let running = Running::start(settings(&isolation, true, true, "p0")).await;
    let client = BankClient::new(running.base_url());
    let kafka = TestEnv::get().kafka_settings(&isolation.topic_prefix());

    let key = IdempotencyKey::parse(&"open-x-later".parse().unwrap()).unwrap();
    let x = RequestIds::new(Some(&key), "POST /accounts").account_id();
    let transfer = TransferId::new();
    let credit_id = CommandId::for_transfer_step(transfer, eventbank_events::TransferStep::Credit);
    let credit = AccountCommand::CreditForTransfer {
        transfer_id: transfer,
        from: AccountId::new(),
        amount: Amount::new(100).unwrap(),
        currency: Currency::EUR,
        deadline: Some(Utc::now() + chrono::TimeDelta::minutes(5)),
    };

    produce_commands(&kafka, &[envelope(credit_id, x, credit.clone())]).await;
    let first = await_results(&kafka, credit_id, 1).await;
    assert_eq!(
        rejection_code(&first[0]),
        Some(RejectionCode::AccountNotFound)
    );

    let opened = client
        .send(
            reqwest::Method::POST,
            "/accounts",
            Some(json!({"holder": "Xena", "currency": "EUR"})),
            Some("open-x-later"),
        )
        .await
        .expect("open X");
    assert_eq!(opened.status, StatusCode::CREATED, "{opened:?}");
    assert_eq!(opened.body["account_id"], x.to_string());

    produce_commands(&kafka, &[envelope(credit_id, x, credit)]).await;
    let both = await_results(&kafka, credit_id, 2).await;
    assert_eq!(
        rejection_code(&both[1]),
        Some(RejectionCode::AccountNotFound),
        "the retried credit gets the first answer: {:?}",
        both[1]
    );
    let streams = account_events(&kafka).await;
    assert_streams_consistent(&streams);
    assert!(
        !streams[&x]
            .iter()
            .any(|event| matches!(event.event, AccountEvent::TransferCredited { .. })),
        "X was never credited: {:?}",
        streams[&x]
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reused_idempotency_key_with_another_request_is_refused_and_changes_nothing() {
    let isolation = Isolation::new("key-reuse");
    let running = Running::start(settings(&isolation, true, true, "p0")).await;
    // A second API instance with an empty result cache: the processor, not a
    // cache, must be the one that refuses.
    let fresh_api = Running::start(settings(&isolation, true, false, "api-1")).await;
    let client = BankClient::new(running.base_url());
    let fresh = BankClient::new(fresh_api.base_url());
    let kafka = TestEnv::get().kafka_settings(&isolation.topic_prefix());
    let post = |client: &BankClient, path: &str, body: serde_json::Value, key: &str| {
        let (client, path, key) = (client.clone(), path.to_owned(), key.to_owned());
        async move {
            client
                .send(reqwest::Method::POST, &path, Some(body), Some(&key))
                .await
                .expect("request")
        }
    };

    // POST /accounts: the same key for Ann/EUR, then Bob/USD.
    let open = |api, holder: &str, currency: &str| {
        let body = json!({"holder": holder, "currency": currency});
        post(api, "/accounts", body, "k-open")
    };
    let ann = open(&client, "Ann", "EUR").await;
    assert_eq!(ann.status, StatusCode::CREATED, "{ann:?}");
    for api in [&client, &fresh] {
        let bob = open(api, "Bob", "USD").await;
        bob.assert_refused("idempotency_key_reused");
    }
    let retry = open(&fresh, "Ann", "EUR").await;
    assert_eq!(
        retry.status,
        StatusCode::CREATED,
        "a true retry still gets the first outcome: {retry:?}"
    );
    assert_eq!(retry.body["account_id"], ann.body["account_id"]);
    let ann = ann.body["account_id"].as_str().unwrap().to_owned();

    // A deposit key reused with another amount.
    let deposits = format!("/accounts/{ann}/deposits");
    let first = post(&client, &deposits, json!({"amount": 1_000}), "k-dep").await;
    assert_eq!(first.status, StatusCode::OK, "{first:?}");
    let other = post(&fresh, &deposits, json!({"amount": 999}), "k-dep").await;
    other.assert_refused("idempotency_key_reused");

    // Transfers: the key is scoped to the source account.
    let bob = client.open("Bob", "EUR").await;
    let carl = client.open("Carl", "EUR").await;
    let transfer = |api, from: &str, to: &str| {
        let body = json!({"from": from, "to": to, "amount": 10});
        post(api, "/transfers", body, "k-tr")
    };
    let to_bob = transfer(&client, &ann, &bob).await;
    assert_eq!(to_bob.status, StatusCode::ACCEPTED, "{to_bob:?}");
    let to_carl = transfer(&fresh, &ann, &carl).await;
    to_carl.assert_refused("idempotency_key_reused");
    client
        .settle(
            &format!("/accounts/{carl}/deposits"),
            Some(json!({"amount": 50})),
            "fund-carl",
        )
        .await;
    let from_carl = transfer(&fresh, &carl, &bob).await;
    assert_eq!(
        from_carl.status,
        StatusCode::ACCEPTED,
        "another source is another request: {from_carl:?}"
    );
    assert_ne!(
        from_carl.body["transfer_id"], to_bob.body["transfer_id"],
        "one transfer id is never debited from two accounts"
    );

    let streams = account_events(&kafka).await;
    assert_streams_consistent(&streams);
    let ann_id = AccountId::parse(&ann).unwrap();
    let kinds: Vec<&str> = streams[&ann_id]
        .iter()
        .map(|e| e.event.event_type())
        .collect();
    assert_eq!(
        kinds,
        ["account_opened", "money_deposited", "transfer_debited"],
        "nothing the refused requests asked for happened"
    );
    assert!(matches!(
        streams[&ann_id][0].event,
        AccountEvent::AccountOpened {
            currency: Currency::EUR,
            ..
        }
    ));
    fresh_api.stop().await;
    running.stop().await;
}
