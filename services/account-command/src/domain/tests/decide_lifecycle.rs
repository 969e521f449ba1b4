//! Closing an account, and what a closed account still accepts.

use eventbank_events::{AccountStatus, Currency, RejectionCode};

use super::harness::*;

#[test]
fn close_an_empty_account() {
    let account = given(&[opened()]).when(close_account()).then(&[closed()]);
    assert_eq!(account.status, AccountStatus::Closed);
}

#[test]
fn close_an_account_emptied_by_withdrawal() {
    given(&[opened(), deposited(500, 500), withdrawn(500, 0)])
        .when(close_account())
        .then(&[closed()]);
}

#[test]
fn close_with_money_left_is_rejected_as_balance_not_zero() {
    given(&[opened(), deposited(1, 1)])
        .when(close_account())
        .then_rejected(RejectionCode::BalanceNotZero);
}

#[test]
fn close_a_closed_account_is_rejected_as_closed() {
    given(&[opened(), closed()])
        .when(close_account())
        .then_rejected(RejectionCode::AccountClosed);
}

#[test]
fn deposit_on_a_closed_account_is_rejected_as_closed() {
    given(&[opened(), closed()])
        .when(deposit(100))
        .then_rejected(RejectionCode::AccountClosed);
}

#[test]
fn withdraw_on_a_closed_account_is_rejected_as_closed() {
    given(&[opened(), closed()])
        .when(withdraw(100))
        .then_rejected(RejectionCode::AccountClosed);
}

#[test]
fn debit_on_a_closed_account_is_rejected_as_closed() {
    given(&[opened(), closed()])
        .when(debit(OTHER, 100))
        .then_rejected(RejectionCode::AccountClosed);
}

#[test]
fn credit_on_a_closed_account_is_rejected_as_closed() {
    given(&[opened(), closed()])
        .when(credit(100, Currency::EUR))
        .then_rejected(RejectionCode::AccountClosed);
}

#[test]
fn closed_wins_over_every_other_reason_to_refuse() {
    // A closed account is the first thing a client needs to know; the fixed
    // check order keeps the answer stable whatever else is wrong.
    given(&[opened(), closed()])
        .with_max_amount(10)
        .when(credit(100, Currency::USD))
        .then_rejected(RejectionCode::AccountClosed);
    given(&[opened(), closed()])
        .with_max_amount(10)
        .when(debit(ACCOUNT, 100))
        .then_rejected(RejectionCode::AccountClosed);
}

#[test]
fn refund_on_a_closed_account_lands_and_the_account_stays_closed() {
    // The source was emptied and closed while its transfer was in flight; the
    // refund must still return the money to its owner (see decide::refund).
    let account = given(&[
        opened(),
        deposited(300, 300),
        debited(100, 200),
        withdrawn(200, 0),
        closed(),
    ])
    .when(refund(100))
    .then(&[refunded(100, 100)]);
    assert_eq!(account.status, AccountStatus::Closed);
    assert_eq!(account.balance, money(100));
}
