//! The processor's command memory against the real broker: what a command id
//! is bound to, for how long, and what it costs — the exactly-once edges a
//! count-bounded window inside the account snapshot got wrong.

use crate::common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use account_command::api::idempotency::{IdempotencyKey, RequestIds};
use chrono::Utc;
use common::{ProcessorProcess, Running, settings};
use eventbank_events::{
    AccountCommand, AccountEvent, AccountId, Amount, CommandEnvelope, CommandId, CommandOutcome,
    CommandResult, CorrelationId, Currency, RejectionCode, RememberedOutcome, TopicKind,
    TransferFailureReason, TransferId, wire,
};
use eventbank_runtime::kafka::KafkaSettings;
use eventbank_testkit::bank::BankClient;
use eventbank_testkit::commands::produce_commands;
use eventbank_testkit::log::{account_events, assert_streams_consistent, read_topic};
use eventbank_testkit::{Isolation, TestEnv, eventually};
use reqwest::StatusCode;
use serde_json::json;

const LONG: Duration = Duration::from_secs(120);

/// Every result on `command-results` for `command_id`, in log order.
async fn results_for(kafka: &KafkaSettings, command_id: CommandId) -> Vec<CommandResult> {
    read_topic(kafka, TopicKind::CommandResults, false)
        .await
        .into_iter()
        .filter_map(|record| wire::decode::<CommandResult>(record.payload.as_deref()?).ok())
        .filter(|result| result.command_id == command_id)
        .collect()
}

async fn await_results(
    kafka: &KafkaSettings,
    command_id: CommandId,
    count: usize,
) -> Vec<CommandResult> {
    eventually("the command's results", LONG, || async {
        let results = results_for(kafka, command_id).await;
        (results.len() >= count).then_some(results)
    })
    .await
}

fn envelope(
    command_id: CommandId,
    account_id: AccountId,
    command: AccountCommand,
) -> CommandEnvelope {
    CommandEnvelope::new(
        command_id,
        account_id,
        CorrelationId::new(),
        Utc::now(),
        command,
    )
}

fn rejection_code(result: &CommandResult) -> Option<RejectionCode> {
    match &result.outcome {
        CommandOutcome::Rejected { rejection } => Some(rejection.code),
        CommandOutcome::Accepted { .. } => None,
    }
}

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
    let ann = post(
        &client,
        "/accounts",
        json!({"holder": "Ann", "currency": "EUR"}),
        "k-open",
    )
    .await;
    assert_eq!(ann.status, StatusCode::CREATED, "{ann:?}");
    for api in [&client, &fresh] {
        let bob = post(
            api,
            "/accounts",
            json!({"holder": "Bob", "currency": "USD"}),
            "k-open",
        )
        .await;
        assert_eq!(bob.status, StatusCode::UNPROCESSABLE_ENTITY, "{bob:?}");
        assert_eq!(bob.code(), "idempotency_key_reused");
    }
    let retry = post(
        &fresh,
        "/accounts",
        json!({"holder": "Ann", "currency": "EUR"}),
        "k-open",
    )
    .await;
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
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY, "{other:?}");
    assert_eq!(other.code(), "idempotency_key_reused");

    // Transfers: the key is scoped to the source account.
    let bob = client.open("Bob", "EUR").await;
    let carl = client.open("Carl", "EUR").await;
    let to_bob = post(
        &client,
        "/transfers",
        json!({"from": ann, "to": bob, "amount": 10}),
        "k-tr",
    )
    .await;
    assert_eq!(to_bob.status, StatusCode::ACCEPTED, "{to_bob:?}");
    let to_carl = post(
        &fresh,
        "/transfers",
        json!({"from": ann, "to": carl, "amount": 10}),
        "k-tr",
    )
    .await;
    assert_eq!(
        to_carl.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{to_carl:?}"
    );
    assert_eq!(to_carl.code(), "idempotency_key_reused");
    client
        .settle(
            &format!("/accounts/{carl}/deposits"),
            Some(json!({"amount": 50})),
            "fund-carl",
        )
        .await;
    let from_carl = post(
        &fresh,
        "/transfers",
        json!({"from": carl, "to": bob, "amount": 10}),
        "k-tr",
    )
    .await;
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

#[tokio::test(flavor = "multi_thread")]
async fn outcomes_are_remembered_for_a_time_not_a_count_and_tombstoned_after_it() {
    let isolation = Isolation::new("memory-window");
    let mut config = settings(&isolation, true, true, "p0");
    config.processor.idempotency_window_secs = 20;
    let running = Running::start(config).await;
    let client = BankClient::new(running.base_url());
    let kafka = TestEnv::get().kafka_settings(&isolation.topic_prefix());
    let account = client.open("Busy", "EUR").await;
    let path = format!("/accounts/{account}/deposits");

    let first = client
        .settle(&path, Some(json!({"amount": 7})), "the-retried-one")
        .await;
    assert_eq!(first.status, StatusCode::OK, "{first:?}");
    let command_id = CommandId::parse(first.command_id.as_deref().unwrap()).unwrap();
    // More than the old count window of 1,000 other commands on the account.
    let account_id = AccountId::parse(&account).unwrap();
    let others: Vec<CommandEnvelope> = (0..1_100)
        .map(|_| {
            envelope(
                CommandId::new(),
                account_id,
                AccountCommand::Deposit {
                    amount: Amount::new(1).unwrap(),
                },
            )
        })
        .collect();
    produce_commands(&kafka, &others).await;
    let last = others.last().unwrap().command_id;
    await_results(&kafka, last, 1).await;

    // The retry reaches the processor (the API cache is bypassed by writing
    // to Kafka) and still gets the first outcome.
    let retry = envelope(
        command_id,
        account_id,
        AccountCommand::Deposit {
            amount: Amount::new(7).unwrap(),
        },
    );
    produce_commands(&kafka, &[retry]).await;
    let answers = await_results(&kafka, command_id, 2).await;
    assert_eq!(
        answers[1].outcome, answers[0].outcome,
        "the first outcome again"
    );
    let streams = account_events(&kafka).await;
    assert_eq!(
        streams[&account_id].len(),
        1 + 1 + 1_100,
        "the retry appended nothing"
    );

    // Past the window the outcome is tombstoned on command-memory.
    let memory_topic = kafka.topics().name(TopicKind::CommandMemory);
    eventually("the expired outcome's tombstone", LONG, || async {
        let records = read_topic(&kafka, TopicKind::CommandMemory, false).await;
        let key = wire::encode_key(command_id);
        let mine: Vec<_> = records
            .iter()
            .filter(|r| r.key.as_deref() == Some(key.as_slice()))
            .collect();
        (mine.len() >= 2 && mine.last().unwrap().payload.is_none()).then_some(())
    })
    .await;
    println!("tombstone found on {memory_topic}");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_thousand_commands_on_one_account_keep_every_record_small_and_restore_bounded() {
    let isolation = Isolation::new("one-hot-account");
    let kafka = TestEnv::get().kafka_settings(&isolation.topic_prefix());
    let api = Running::start(settings(&isolation, true, false, "api")).await;
    let client = BankClient::new(api.base_url());
    let processor = ProcessorProcess::spawn(&isolation, "p0");
    let account = client.open("Merchant", "EUR").await;
    let account_id = AccountId::parse(&account).unwrap();

    // Keyed deposits and refunds (the two kinds of memory that grew the
    // snapshot before), 20,000 in all.
    let commands: Vec<CommandEnvelope> = (0..20_000_u32)
        .map(|i| {
            let command = if i % 2 == 0 {
                AccountCommand::Deposit {
                    amount: Amount::new(1).unwrap(),
                }
            } else {
                AccountCommand::RefundTransfer {
                    transfer_id: TransferId::new(),
                    amount: Amount::new(1).unwrap(),
                    reason: TransferFailureReason::AccountNotFound,
                }
            };
            let id = CommandId::from_uuid(uuid::Uuid::new_v5(
                &uuid::Uuid::NAMESPACE_OID,
                format!("{account}-{i}").as_bytes(),
            ));
            envelope(id, account_id, command)
        })
        .collect();
    let started = Instant::now();
    produce_commands(&kafka, &commands).await;
    let last = commands.last().unwrap().command_id;
    await_results(&kafka, last, 1).await;
    println!(
        "20,000 commands on one account decided in {:?}",
        started.elapsed()
    );

    // Restore after SIGKILL: from the compacted state and memory topics.
    processor.kill();
    let restarted = Instant::now();
    let _processor = ProcessorProcess::spawn(&isolation, "p0");
    let after = client
        .settle(
            &format!("/accounts/{account}/deposits"),
            Some(json!({"amount": 1})),
            "after-restart",
        )
        .await;
    assert_eq!(after.status, StatusCode::OK, "{after:?}");
    assert_eq!(
        after.body["version"], 20_002,
        "every command applied once: {after:?}"
    );
    println!(
        "restart → first command answered in {:?} (restore of 20,000 remembered outcomes)",
        restarted.elapsed()
    );

    let mut largest: BTreeMap<&str, usize> = BTreeMap::new();
    let mut snapshots = 0;
    for kind in [
        TopicKind::AccountState,
        TopicKind::CommandMemory,
        TopicKind::AccountEvents,
        TopicKind::CommandResults,
    ] {
        for record in read_topic(&kafka, kind, false).await {
            let size = record.payload.as_ref().map_or(0, Vec::len);
            let entry = largest.entry(kind.base_name()).or_default();
            *entry = (*entry).max(size);
            if kind == TopicKind::AccountState {
                snapshots += 1;
            }
            if kind == TopicKind::CommandMemory
                && let Some(payload) = &record.payload
            {
                wire::decode::<RememberedOutcome>(payload).expect("memory decodes");
            }
        }
    }
    println!("largest record per topic (bytes): {largest:?}; account-state records: {snapshots}");
    for (topic, size) in &largest {
        assert!(
            *size < 4 * 1024,
            "{topic} wrote a {size}-byte record; records must not grow with traffic"
        );
    }
    assert!(
        snapshots < 20_000 / 10,
        "one snapshot per changed account per transaction, not per command: {snapshots}"
    );
    api.stop().await;
}
