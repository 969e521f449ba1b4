//! What the memory costs: a hot account's records stay small and its restore
//! stays bounded however much traffic it took.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::common::{ProcessorProcess, Running, settings};
use eventbank_events::{
    AccountCommand, AccountId, Amount, CommandEnvelope, CommandId, RememberedOutcome, TopicKind,
    TransferFailureReason, TransferId, wire,
};
use eventbank_testkit::bank::BankClient;
use eventbank_testkit::commands::produce_commands;
use eventbank_testkit::log::read_topic;
use eventbank_testkit::{Isolation, TestEnv};
use reqwest::StatusCode;
use serde_json::json;

use super::direct::{await_results, envelope};

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
