//! Poison commands: records on `account-commands` that are wrong in every
//! way a producer can get them wrong go to the dead-letter topic, and the
//! partition moves on.

use std::time::Duration;

use crate::common::{Running, settings};
use eventbank_events::TopicKind;
use eventbank_events::dead_letter::{HEADER_REASON, HEADER_SOURCE_TOPIC};
use eventbank_testkit::bank::BankClient;
use eventbank_testkit::log::{account_events, read_topic};
use eventbank_testkit::{Isolation, TestEnv};
use rdkafka::producer::FutureRecord;
use reqwest::StatusCode;
use serde_json::json;

use super::workload::counter;

#[tokio::test(flavor = "multi_thread")]
async fn poison_records_go_to_the_dead_letter_topic_and_the_partition_moves_on() {
    let isolation = Isolation::new("poison");
    let running = Running::start(settings(&isolation, true, true, "p0")).await;
    let client = BankClient::new(running.base_url());
    let account = client.open("Ann", "EUR").await;

    let kafka = TestEnv::get().kafka_settings(&isolation.topic_prefix());
    let commands = kafka.topics().name(TopicKind::AccountCommands);
    let producer = kafka.producer().expect("producer");
    let valid_elsewhere = json!({
        "schema_version": 1,
        "command_id": uuid::Uuid::new_v4(),
        "account_id": uuid::Uuid::new_v4(),
        "correlation_id": uuid::Uuid::new_v4(),
        "causation_id": null,
        "issued_at": "2026-11-23T10:00:00Z",
        "command": {"type": "deposit", "amount": 5}
    })
    .to_string();
    let command = |schema_version: u64, command: serde_json::Value| {
        json!({
            "schema_version": schema_version,
            "command_id": uuid::Uuid::new_v4(),
            "account_id": account,
            "correlation_id": uuid::Uuid::new_v4(),
            "causation_id": null,
            "issued_at": "2026-11-23T10:00:00Z",
            "command": command
        })
        .to_string()
    };
    // Each wrong in one way; the last is close to the broker's 1 MB limit.
    let poison: Vec<(&str, Vec<u8>)> = vec![
        ("not JSON", b"{not json".to_vec()),
        (
            "key/partition mismatch",
            valid_elsewhere.clone().into_bytes(),
        ),
        (
            "unknown command type",
            command(1, json!({"type": "mint", "amount": 5})).into_bytes(),
        ),
        (
            "future schema version",
            command(99, json!({"type": "deposit", "amount": 5})).into_bytes(),
        ),
        (
            "wrong field type",
            command(1, json!({"type": "deposit", "amount": "5"})).into_bytes(),
        ),
        ("not UTF-8", vec![0xff, 0xfe, 0x00, 0x7b]),
        ("empty value", Vec::new()),
        ("900 KB value", {
            let mut big = b"{\"pad\":\"".to_vec();
            big.resize(900 * 1024, b'x');
            big.extend_from_slice(b"\"}");
            big
        }),
    ];
    for (_, payload) in &poison {
        producer
            .send(
                FutureRecord::to(&commands)
                    .key(account.as_str())
                    .payload(payload.as_slice()),
                Duration::from_secs(30),
            )
            .await
            .map_err(|(err, _)| err)
            .expect("produce poison");
    }

    // The account's partition keeps going after the poison.
    let after = client.deposit(&account, 70).await;
    assert_eq!(after.status, StatusCode::OK, "{after:?}");
    assert_eq!(after.body["balance"], 70);

    let dead = read_topic(&kafka, TopicKind::AccountCommands, true).await;
    assert_eq!(
        dead.len(),
        poison.len(),
        "every poison record is dead-lettered once: {:?}",
        poison.iter().map(|(kind, _)| kind).collect::<Vec<_>>()
    );
    for ((kind, payload), record) in poison.iter().zip(&dead) {
        assert_eq!(
            record.payload.as_deref().unwrap_or_default(),
            payload.as_slice(),
            "{kind}: the original bytes are kept, in order"
        );
    }
    assert_eq!(
        counter(&running.base_url(), "eventbank_txn_dead_letters_total").await,
        poison.len() as u64,
        "the dead-letter counter counts each"
    );
    let reasons: Vec<String> = dead
        .iter()
        .map(|r| String::from_utf8_lossy(r.header(HEADER_REASON).unwrap_or_default()).into_owned())
        .collect();
    assert_eq!(
        dead[0].payload.as_deref(),
        Some(b"{not json".as_slice()),
        "original bytes kept"
    );
    assert!(
        reasons.iter().any(|r| r.contains("does not match")),
        "{reasons:?}"
    );
    assert!(reasons.iter().all(|r| !r.is_empty()), "{reasons:?}");
    assert!(
        dead.iter()
            .all(|r| r.header(HEADER_SOURCE_TOPIC) == Some(commands.as_bytes()))
    );

    let streams = account_events(&kafka).await;
    assert_eq!(streams.len(), 1, "the poison opened or changed nothing");
    running.stop().await;
}
