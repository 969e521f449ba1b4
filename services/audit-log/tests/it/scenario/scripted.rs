//! The scripted scenario against the real account-command service: every
//! event appears in the trail once, in order, with a valid chain, and the
//! rejections are in their account's chain.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::common::{self, LONG, Running, assert_trail_intact, pg, settings, wait_for_records};
use chrono::Utc;
use eventbank_events::testing;
use eventbank_events::{
    AccountCommand, AccountEventEnvelope, AccountId, Amount, CommandEnvelope, CommandId,
    CorrelationId, Currency, TopicKind, TransferId, wire,
};
use eventbank_runtime::kafka::{KafkaSettings, read_partition};
use eventbank_testkit::{InProcess, Isolation, RecordWriter, TestEnv, eventually};
use serde_json::{Value, json};
use uuid::Uuid;

use super::stream_api::check_stream_api;

/// Every event on `account-events`, per account, in log order.
async fn account_events(kafka: &KafkaSettings) -> BTreeMap<Uuid, Vec<AccountEventEnvelope>> {
    let topic = kafka.topics().name(TopicKind::AccountEvents);
    let mut streams: BTreeMap<Uuid, Vec<AccountEventEnvelope>> = BTreeMap::new();
    for partition in 0..kafka.topics.partitions {
        let (kafka, topic) = (kafka.clone(), topic.clone());
        let records = tokio::task::spawn_blocking(move || {
            read_partition(&kafka, &topic, partition, Duration::from_secs(60))
        })
        .await
        .unwrap()
        .expect("read account-events");
        for record in records {
            let event: AccountEventEnvelope =
                wire::decode(record.payload.as_deref().unwrap_or_default()).unwrap();
            streams
                .entry(event.stream_id.as_uuid())
                .or_default()
                .push(event);
        }
    }
    streams
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_scenario_is_recorded_once_in_order_with_valid_chains() {
    let isolation = Isolation::new("audit-scenario");
    let env = TestEnv::get();
    let kafka = env.kafka_settings(&isolation.topic_prefix());

    let mut command_settings = account_command::Settings {
        instance: "scenario".to_owned(),
        http: settings(&isolation, "x").http,
        kafka: kafka.clone(),
        auth: eventbank_testkit::auth::settings(),
        ..account_command::Settings::default()
    };
    command_settings.api.result_timeout_ms = 10_000;
    let command = InProcess::<account_command::App>::start(command_settings).await;
    let bank = command.base_url();
    let audit = Running::start_ready(settings(&isolation, "scenario")).await;

    let http = eventbank_testkit::http::client();
    let post = |path: String, body: Value, key: Option<&'static str>| {
        let http = http.clone();
        let bank = bank.clone();
        async move {
            let mut request = http.post(format!("{bank}{path}"));
            if !body.is_null() {
                request = request.json(&body);
            }
            if let Some(key) = key {
                request = request.header("Idempotency-Key", key);
            }
            let response = request.send().await.expect("POST");
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let open = |holder: &'static str| async move {
        eventually("account opened", LONG, || async move {
            let (status, body) = post(
                "/accounts".into(),
                json!({"holder": holder, "currency": "EUR"}),
                None,
            )
            .await;
            (status == 201).then(|| body["account_id"].as_str().unwrap().to_owned())
        })
        .await
    };
    let ann = open("Ann").await;
    let bob = open("Bob").await;
    for (action, amount) in [("deposits", 1000), ("withdrawals", 300)] {
        let (status, body) = post(
            format!("/accounts/{ann}/{action}"),
            json!({"amount": amount}),
            None,
        )
        .await;
        assert_eq!(status, 200, "{action}: {body}");
    }
    // Rejections: too much (twice, as a retry with one idempotency key), and
    // closing with money left.
    for _ in 0..2 {
        let (status, body) = post(
            format!("/accounts/{ann}/withdrawals"),
            json!({"amount": 5000}),
            Some("too-much-1"),
        )
        .await;
        assert_eq!(status, 422, "{body}");
    }
    assert_eq!(
        post(format!("/accounts/{ann}/close"), Value::Null, None)
            .await
            .0,
        422
    );
    // A command for an account that does not exist is on the record too.
    let ghost = AccountId::new();
    assert_eq!(
        post(
            format!("/accounts/{ghost}/deposits"),
            json!({"amount": 5}),
            None
        )
        .await
        .0,
        404
    );
    // A transfer: the API debits Ann; the test plays the saga's part.
    let (status, transfer) = post(
        "/transfers".into(),
        json!({"from": ann, "to": bob, "amount": 200}),
        None,
    )
    .await;
    assert_eq!(status, 202, "{transfer}");
    let transfer_id =
        TransferId::from_uuid(Uuid::parse_str(transfer["transfer_id"].as_str().unwrap()).unwrap());
    let bob_id = AccountId::from_uuid(Uuid::parse_str(&bob).unwrap());
    let ann_id = AccountId::from_uuid(Uuid::parse_str(&ann).unwrap());
    let credit = CommandEnvelope::new(
        CommandId::new(),
        bob_id,
        CorrelationId::new(),
        Utc::now(),
        AccountCommand::CreditForTransfer {
            transfer_id,
            from: ann_id,
            amount: Amount::new(200).unwrap(),
            currency: Currency::parse("EUR").unwrap(),
            deadline: None,
        },
    );
    let feed = RecordWriter::isolated(&isolation);
    feed.send(TopicKind::AccountCommands, &credit).await;
    let completed = testing::envelope(
        transfer_id.into(),
        1,
        testing::completed(ann_id, bob_id, 100),
    );
    feed.send(TopicKind::TransferEvents, &completed).await;

    // Ann: opened, deposit, withdrawal, 2 rejections, debit; Bob: opened,
    // credit; the ghost: 1 rejection; the transfer: completed.
    let db = pg(&isolation).await;
    wait_for_records(&db, 6 + 2 + 1 + 1).await;

    // The trail holds exactly the log's events, in the log's order.
    let log = account_events(&kafka).await;
    assert_eq!(log.len(), 2);
    for (stream, events) in &log {
        let rows = db
            .query(
                "SELECT event_id, sequence, record_type FROM audit_records
                 WHERE stream_id = $1 AND sequence IS NOT NULL ORDER BY position",
                &[stream],
            )
            .await
            .unwrap();
        let recorded: Vec<(Uuid, i64, String)> = rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        let expected: Vec<(Uuid, i64, String)> = events
            .iter()
            .map(|e| {
                (
                    e.event_id.as_uuid(),
                    i64::try_from(e.sequence).unwrap(),
                    e.event.event_type().to_owned(),
                )
            })
            .collect();
        assert_eq!(recorded, expected, "stream {stream}");
    }
    let rejections = db
        .query(
            "SELECT stream_id, payload->'outcome'->'rejection'->>'code' FROM audit_records
             WHERE record_type = 'command_rejected' ORDER BY stream_id",
            &[],
        )
        .await
        .unwrap();
    let mut codes: Vec<(Uuid, String)> = rejections.iter().map(|r| (r.get(0), r.get(1))).collect();
    codes.sort();
    let ann_uuid = ann_id.as_uuid();
    let mut expected_codes = vec![
        (ann_uuid, "insufficient_funds".to_owned()),
        (ann_uuid, "balance_not_zero".to_owned()),
        (ghost.as_uuid(), "account_not_found".to_owned()),
    ];
    expected_codes.sort();
    assert_eq!(codes, expected_codes);

    // Verify and reconcile agree; the stream API shows Ann's whole chain.
    let base = &audit.base_url();
    assert_trail_intact(base, 4, 10, 2).await;

    check_stream_api(base, &ann).await;

    audit.stop().await;
    command.stop().await;
    common::drop_schema(&isolation).await;
}
