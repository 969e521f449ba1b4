//! Processes killed the way a node failure kills them (SIGKILL, no final
//! commit) in the middle of transfers: every transfer still ends exactly once.

use crate::common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{Bank, LONG};
use eventbank_testkit::log::{assert_transfers_settled_once, balance, transfer_events};
use std::collections::BTreeMap;

use eventbank_events::{
    AccountCommand, CommandEnvelope, TopicKind, TransferEvent, TransferId, wire,
};
use eventbank_testkit::eventually;
use eventbank_testkit::log::{assert_streams_consistent, read_topic};
use futures::StreamExt;
use futures::future::join_all;

const DEADLINE_MS: u64 = 120_000;
const TRANSFERS: i64 = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saga_killed_between_debit_and_credit_completes_each_transfer_once() {
    let bank = Bank::start("saga-kill", true).await;
    let ann = bank.account("Ann", "EUR", 10_000).await;
    let bob = bank.account("Bob", "EUR", 0).await;
    // Debited while no saga runs: every transfer is between debit and credit.
    let debits = (0..TRANSFERS).map(|_| {
        let (bank, from, to) = (&bank, ann.to_string(), bob.to_string());
        async move { bank.transfer(&from, &to, 10).await }
    });
    let ids: BTreeSet<_> = futures::stream::iter(debits)
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .map(|id| id.expect("debited"))
        .collect();
    // Small batches, so the work spans many transactions; killed as soon as
    // the first transfer has ended (mid-stream), then again a moment after
    // its restart, then left running.
    let small_batches = [("EVENTBANK_SAGA__MAX_BATCH", "10")];
    let saga = bank.spawn_saga_with("saga-0", &small_batches);
    let ended_at_kill = eventually("a first transfer ended", LONG, || async {
        let ended = transfer_events(&bank.kafka).await.len();
        (ended > 0).then_some(ended)
    })
    .await;
    saga.kill();
    eprintln!("saga killed with {ended_at_kill} of {TRANSFERS} transfers ended");
    let saga = bank.spawn_saga_with("saga-0", &small_batches);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    saga.kill();
    let _saga = bank.spawn_saga_with("saga-0", &small_batches);

    let ended = bank.await_ended(&ids).await;
    assert!(
        ended
            .values()
            .all(|events| matches!(events.as_slice(), [TransferEvent::TransferCompleted { .. }])),
        "every transfer completed: {ended:?}"
    );
    let streams = bank.accounts().await;
    assert_streams_consistent(&streams);
    assert_transfers_settled_once(&ended, &streams);
    assert_eq!(balance(&streams[&ann]), 10_000 - 10 * TRANSFERS);
    assert_eq!(
        balance(&streams[&bob]),
        10 * TRANSFERS,
        "each credit applied once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_command_killed_during_a_burst_of_transfers() {
    let bank = Bank::start("saga-burst", false).await;
    let processor = bank.spawn_processor("p0");
    let _saga = bank.start_saga(DEADLINE_MS).await;
    let ann = bank.account("Ann", "EUR", 100_000).await;
    let bob = bank.account("Bob", "EUR", 0).await;
    let closed = bank.closed_account("Cid").await;

    let (ann_s, bob_s, closed_s) = (ann.to_string(), bob.to_string(), closed.to_string());
    let burst = (0..60).map(|n| {
        let to = if n % 4 == 0 {
            closed_s.clone()
        } else {
            bob_s.clone()
        };
        let (bank, from) = (&bank, ann_s.clone());
        async move { bank.transfer(&from, &to, 100).await }
    });
    let killer = async {
        let mut processor = processor;
        for _ in 0..2 {
            tokio::time::sleep(Duration::from_millis(1_500)).await;
            processor.kill();
            tokio::time::sleep(Duration::from_millis(500)).await;
            processor = bank.spawn_processor("p0");
        }
        processor
    };
    let (results, _processor) = tokio::join!(join_all(burst), killer);
    let ids: BTreeSet<_> = results.into_iter().map(|id| id.expect("debited")).collect();
    assert_eq!(ids.len(), 60);

    let ended = bank.await_ended(&ids).await;
    let streams = bank.accounts().await;
    assert_streams_consistent(&streams);
    assert_transfers_settled_once(&ended, &streams);
    assert_eq!(
        balance(&streams[&bob]),
        45 * 100,
        "45 transfers reached Bob, once each"
    );
    assert_eq!(balance(&streams[&closed]), 0);
    assert_eq!(
        balance(&streams[&ann]),
        100_000 - 45 * 100,
        "15 refunds, once each"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retried_credits_the_accounts_already_applied_never_pay_twice() {
    // An idempotency window of one second: only the rule that a credit is
    // remembered until past its deadline stands between a retried credit and
    // a second payment.
    let forgetful = [("EVENTBANK_PROCESSOR__IDEMPOTENCY_WINDOW_SECS", "1")];
    let bank = Bank::start("saga-retry", false).await;
    let processor = bank.spawn_processor_with("p0", &forgetful);
    let ann = bank.account("Ann", "EUR", 10_000).await;
    let bob = bank.account("Bob", "EUR", 0).await;
    let ids = bank.transfers(30, ann, bob, 10).await;

    // The saga issues the 30 credits while no processor runs, and with no
    // answer coming, issues each again after retry_after.
    processor.kill();
    let _saga = bank.spawn_saga("saga-0");
    eventually("every credit issued twice", LONG, || async {
        let issued = credit_commands_per_transfer(&bank).await;
        (issued.len() == ids.len() && issued.values().all(|&count| count > 1)).then_some(())
    })
    .await;
    // Both copies of every credit now reach the account; the second is
    // decided after the one-second window could have forgotten the first,
    // and only its deadline-long memory refuses it.
    let _processor = bank.spawn_processor_with("p0", &forgetful);

    let ended = bank.await_ended(&ids).await;
    let credits_issued = credit_commands_per_transfer(&bank).await;
    assert!(credits_issued.values().all(|&count| count > 1));
    let streams = bank.accounts().await;
    assert_streams_consistent(&streams);
    assert_transfers_settled_once(&ended, &streams);
    assert_eq!(balance(&streams[&bob]), 300, "each credit applied once");
    assert_eq!(balance(&streams[&ann]), 10_000 - 300);
}

/// How many `CreditForTransfer` commands were put on the log per transfer.
async fn credit_commands_per_transfer(bank: &Bank) -> BTreeMap<TransferId, usize> {
    let mut issued = BTreeMap::new();
    for record in read_topic(&bank.kafka, TopicKind::AccountCommands, false).await {
        let envelope: CommandEnvelope =
            wire::decode(record.payload.as_deref().unwrap_or_default()).expect("command");
        if let AccountCommand::CreditForTransfer { transfer_id, .. } = envelope.command {
            *issued.entry(transfer_id).or_insert(0) += 1;
        }
    }
    issued
}
