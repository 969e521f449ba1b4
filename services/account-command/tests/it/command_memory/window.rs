//! How long an outcome is remembered: for a time, however many commands the
//! account takes meanwhile, then tombstoned.

use crate::common::{Running, settings};
use eventbank_events::{
    AccountCommand, AccountId, Amount, CommandEnvelope, CommandId, TopicKind, wire,
};
use eventbank_testkit::bank::BankClient;
use eventbank_testkit::commands::produce_commands;
use eventbank_testkit::log::{account_events, read_topic};
use eventbank_testkit::{Isolation, TestEnv, eventually};
use reqwest::StatusCode;
use serde_json::json;

use super::direct::{LONG, await_results, envelope};

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
