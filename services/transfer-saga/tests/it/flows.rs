//! Transfers through the real command service and the real saga: completed,
//! or refunded with the reason the target gave, or with `timeout` when the
//! target could not decide the credit in time.

use crate::common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::Bank;
use eventbank_events::{AccountId, TransferEvent, TransferFailureReason};
use eventbank_testkit::log::assert_streams_consistent;
use eventbank_testkit::log::{assert_transfers_settled_once, balance};

const DEADLINE_MS: u64 = 60_000;

fn reason(events: &[TransferEvent]) -> Option<TransferFailureReason> {
    match events {
        [TransferEvent::TransferFailed { reason, .. }] => Some(*reason),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_complete_or_are_refunded_with_the_target_s_reason() {
    let bank = Bank::start("saga-flows", true).await;
    let _saga = bank.start_saga(DEADLINE_MS).await;
    let ann = bank.account("Ann", "EUR", 1_000).await;
    let bob = bank.account("Bob", "EUR", 0).await;
    let closed = bank.closed_account("Cid").await;
    let dollars = bank.account("Dee", "USD", 0).await;
    let nobody = AccountId::new();

    let (ann_s, bob_s) = (ann.to_string(), bob.to_string());
    let completed = bank.transfer(&ann_s, &bob_s, 100).await.expect("debited");
    let to_nobody = bank
        .transfer(&ann_s, &nobody.to_string(), 50)
        .await
        .expect("debited");
    let to_closed = bank
        .transfer(&ann_s, &closed.to_string(), 60)
        .await
        .expect("debited");
    let to_dollars = bank
        .transfer(&ann_s, &dollars.to_string(), 70)
        .await
        .expect("debited");
    assert_eq!(
        bank.transfer(&ann_s, &bob_s, 5_000).await,
        None,
        "a debit beyond the balance is refused at once"
    );

    let expected = BTreeSet::from([completed, to_nobody, to_closed, to_dollars]);
    let ended = bank.await_ended(&expected).await;
    assert!(matches!(
        ended[&completed].as_slice(),
        [TransferEvent::TransferCompleted { amount, .. }] if amount.minor_units() == 100
    ));
    assert_eq!(
        reason(&ended[&to_nobody]),
        Some(TransferFailureReason::AccountNotFound)
    );
    assert_eq!(
        reason(&ended[&to_closed]),
        Some(TransferFailureReason::AccountClosed)
    );
    assert_eq!(
        reason(&ended[&to_dollars]),
        Some(TransferFailureReason::CurrencyMismatch)
    );

    let streams = bank.accounts().await;
    assert_streams_consistent(&streams);
    assert_transfers_settled_once(&ended, &streams);
    assert_eq!(
        balance(&streams[&ann]),
        900,
        "only the completed transfer left Ann"
    );
    assert_eq!(balance(&streams[&bob]), 100);
    assert_eq!(balance(&streams[&closed]), 0);
    assert_eq!(balance(&streams[&dollars]), 0);
    assert!(
        !streams.contains_key(&nobody),
        "no stream appears for an unknown target"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credit_not_decided_by_its_deadline_is_refunded_with_reason_timeout() {
    let deadline = Duration::from_secs(4);
    let bank = Bank::start("saga-timeout", false).await;
    let processor = bank.spawn_processor("p0");
    let _saga = bank
        .start_saga(u64::try_from(deadline.as_millis()).expect("small"))
        .await;
    let ann = bank.account("Ann", "EUR", 1_000).await;
    let bob = bank.account("Bob", "EUR", 0).await;
    let id = bank
        .transfer(&ann.to_string(), &bob.to_string(), 300)
        .await
        .expect("debited");
    // The target's processor goes down right after the debit: the credit
    // waits in account-commands past its deadline, while the saga retries it.
    processor.kill();
    tokio::time::sleep(deadline + Duration::from_secs(3)).await;
    let _processor = bank.spawn_processor("p0");

    let ended = bank.await_ended(&BTreeSet::from([id])).await;
    assert_eq!(reason(&ended[&id]), Some(TransferFailureReason::Timeout));
    let streams = bank.accounts().await;
    assert_streams_consistent(&streams);
    assert_transfers_settled_once(&ended, &streams);
    assert_eq!(balance(&streams[&ann]), 1_000, "the debit came back");
    assert_eq!(balance(&streams[&bob]), 0, "the late credit was refused");
}
