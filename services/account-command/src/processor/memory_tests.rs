//! Given/when/then for the command memory, without Kafka.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use eventbank_events::{
    AccountCommand, AccountId, AccountSnapshot, AccountStatus, Amount, CommandEnvelope, CommandId,
    CommandOutcome, CorrelationId, Currency, Fingerprint, Holder, Money, RejectionCode,
    RememberedCommand, SettledLeg, SettledStep, TransferFailureReason, TransferId, TransferStep,
};

use super::*;

const WINDOW: TimeDelta = TimeDelta::hours(24);

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap() + TimeDelta::minutes(minutes)
}

fn envelope(command_id: CommandId, account: AccountId, command: AccountCommand) -> CommandEnvelope {
    CommandEnvelope::new(command_id, account, CorrelationId::new(), at(0), command)
}

fn deposit(amount: i64) -> AccountCommand {
    AccountCommand::Deposit {
        amount: Amount::new(amount).unwrap(),
    }
}

fn not_found() -> CommandOutcome {
    CommandOutcome::rejected(RejectionCode::AccountNotFound, "the account does not exist")
}

fn credit(deadline: Option<DateTime<Utc>>) -> AccountCommand {
    AccountCommand::CreditForTransfer {
        transfer_id: TransferId::from_uuid(uuid::Uuid::from_u128(7)),
        from: AccountId::from_uuid(uuid::Uuid::from_u128(8)),
        amount: Amount::new(100).unwrap(),
        currency: Currency::EUR,
        deadline,
    }
}

#[test]
fn plain_commands_are_remembered_for_the_window() {
    assert_eq!(expires_at(&deposit(1), at(0), WINDOW), at(0) + WINDOW);
}

#[test]
fn a_credit_is_remembered_at_least_until_past_its_deadline() {
    let deadline = at(0) + TimeDelta::days(2);
    assert_eq!(
        expires_at(&credit(Some(deadline)), at(0), WINDOW),
        deadline + TimeDelta::minutes(1)
    );
    assert_eq!(
        expires_at(&credit(Some(at(5))), at(0), WINDOW),
        at(0) + WINDOW,
        "the window, when it is longer"
    );
}

#[test]
fn refunds_and_credits_without_deadline_are_remembered_for_the_refund_memory() {
    let refund = AccountCommand::RefundTransfer {
        transfer_id: TransferId::new(),
        amount: Amount::new(1).unwrap(),
        reason: TransferFailureReason::AccountNotFound,
    };
    assert_eq!(
        expires_at(&refund, at(0), TimeDelta::seconds(1)),
        at(0) + REFUND_MEMORY
    );
    assert_eq!(
        expires_at(&credit(None), at(0), TimeDelta::seconds(1)),
        at(0) + REFUND_MEMORY
    );
}

#[test]
fn a_rejection_for_an_account_that_does_not_exist_is_remembered() {
    // The interleaving that paid twice: credit → account_not_found → the
    // saga refunds; the account is opened; the retried credit must get the
    // same answer, not be applied.
    let mut memory = Memory::default();
    let account = AccountId::new();
    let first = envelope(CommandId::new(), account, credit(Some(at(5))));
    let fingerprint = Fingerprint::of(&first);
    assert_eq!(
        memory.recall(0, first.command_id, &fingerprint),
        Recall::New
    );
    memory.remember(0, &first, fingerprint.clone(), not_found(), at(0), WINDOW);
    memory.commit();

    let retry = envelope(first.command_id, account, credit(Some(at(5))));
    match memory.recall(0, retry.command_id, &Fingerprint::of(&retry)) {
        Recall::Retry(remembered) => assert_eq!(remembered.outcome, not_found()),
        other => panic!("expected the first answer, got {other:?}"),
    }
}

#[test]
fn the_same_id_for_a_different_request_is_reused() {
    let mut memory = Memory::default();
    let account = AccountId::new();
    let first = envelope(CommandId::new(), account, deposit(500));
    memory.remember(
        0,
        &first,
        Fingerprint::of(&first),
        not_found(),
        at(0),
        WINDOW,
    );
    let other = envelope(first.command_id, account, deposit(501));
    assert!(
        matches!(
            memory.recall(0, other.command_id, &Fingerprint::of(&other)),
            Recall::Reused(_)
        ),
        "staged outcomes count before the commit"
    );
}

#[test]
fn an_aborted_transaction_forgets_what_it_staged() {
    let mut memory = Memory::default();
    let first = envelope(CommandId::new(), AccountId::new(), deposit(5));
    let fingerprint = Fingerprint::of(&first);
    memory.remember(0, &first, fingerprint.clone(), not_found(), at(0), WINDOW);
    memory.abort();
    assert_eq!(
        memory.recall(0, first.command_id, &fingerprint),
        Recall::New
    );
}

#[test]
fn expired_outcomes_are_forgotten_oldest_first_within_the_limit() {
    let mut memory = Memory::default();
    let account = AccountId::new();
    let ids: Vec<CommandId> = (0..3).map(|_| CommandId::new()).collect();
    for (minute, id) in ids.iter().enumerate() {
        let command = envelope(*id, account, deposit(1));
        memory.remember(
            1,
            &command,
            Fingerprint::of(&command),
            not_found(),
            at(minute as i64),
            TimeDelta::minutes(10),
        );
    }
    memory.commit();
    assert!(
        memory.forget_expired(at(9), 10).is_empty(),
        "none expired yet"
    );
    let expired = memory.forget_expired(at(11), 1);
    assert_eq!(
        expired,
        vec![(1, ids[0])],
        "oldest first, at most the limit"
    );
    memory.commit();
    assert_eq!(memory.len(), 2);
    let expired = memory.forget_expired(at(30), 10);
    assert_eq!(expired.len(), 2);
    memory.abort();
    assert_eq!(memory.len(), 2, "an aborted tick forgets nothing");
}

fn old_snapshot(account: AccountId) -> AccountSnapshot {
    AccountSnapshot {
        schema_version: 1,
        account_id: account,
        version: 3,
        holder: Holder::parse("Ann").unwrap(),
        currency: Currency::EUR,
        balance: Money::new(100),
        status: AccountStatus::Open,
        opened_at: at(0),
        updated_at: at(10),
        recent_commands: vec![RememberedCommand {
            command_id: CommandId::from_uuid(uuid::Uuid::from_u128(1)),
            result: not_found(),
        }],
        settled_legs: vec![SettledLeg {
            transfer_id: TransferId::from_uuid(uuid::Uuid::from_u128(9)),
            step: SettledStep::Refund,
            until: at(60),
        }],
    }
}

#[test]
fn old_snapshots_carry_their_memory_over_and_it_is_written_out_once() {
    let account = AccountId::new();
    let mut memory = Memory::default();
    memory.restore(0, Vec::new(), &[old_snapshot(account)], WINDOW, at(20));

    let any = Fingerprint::from_hex("00");
    let windowed = CommandId::from_uuid(uuid::Uuid::from_u128(1));
    assert!(
        matches!(memory.recall(0, windowed, &any), Recall::Retry(r) if r.outcome == not_found()),
        "an outcome without fingerprint matches any retry, as before"
    );
    let leg = CommandId::for_transfer_step(
        TransferId::from_uuid(uuid::Uuid::from_u128(9)),
        TransferStep::Refund,
    );
    match memory.recall(0, leg, &any) {
        Recall::Retry(remembered) => {
            assert!(matches!(
                &remembered.outcome,
                CommandOutcome::Rejected { rejection } if rejection.code == RejectionCode::DuplicateTransfer
            ));
            assert_eq!(remembered.expires_at, at(60));
        }
        other => panic!("a settled leg stays settled, got {other:?}"),
    }
    assert_eq!(memory.take_migrating().len(), 2);
    memory.commit();
    assert!(memory.take_migrating().is_empty(), "written once");
}

#[test]
fn carried_over_memory_never_overrides_the_memory_topic_or_outlives_its_time() {
    let account = AccountId::new();
    let mut memory = Memory::default();
    // At minute 70 the leg (until minute 60) is gone; the window entry lives.
    memory.restore(0, Vec::new(), &[old_snapshot(account)], WINDOW, at(70));
    assert_eq!(memory.take_migrating().len(), 1);
}
