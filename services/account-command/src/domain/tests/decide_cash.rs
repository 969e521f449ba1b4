//! Deposits and withdrawals, and the balance overflow refused whichever way
//! money comes in.

use eventbank_events::{Currency, RejectionCode};

use super::harness::*;

#[test]
fn deposit_adds_to_the_balance() {
    let account = given(&[opened(), deposited(200, 200)])
        .when(deposit(300))
        .then(&[deposited(300, 500)]);
    assert_eq!(account.balance, money(500));
    assert_eq!(account.version, 3);
}

#[test]
fn deposit_of_exactly_the_limit_is_accepted() {
    given(&[opened()])
        .with_max_amount(1_000)
        .when(deposit(1_000))
        .then(&[deposited(1_000, 1_000)]);
}

#[test]
fn deposit_above_the_limit_is_rejected_as_too_large() {
    given(&[opened()])
        .with_max_amount(1_000)
        .when(deposit(1_001))
        .then_rejected(RejectionCode::AmountTooLarge);
}

#[test]
fn anything_that_would_overflow_the_balance_is_rejected() {
    // A refund's overflow is only reachable if deposits refilled the account
    // to the brim while the transfer was in flight: no i64 can hold the result.
    for command in [deposit(1), credit(1, Currency::EUR), refund(1)] {
        given(&[opened(), deposited(i64::MAX, i64::MAX)])
            .when(command)
            .then_rejected(RejectionCode::BalanceOverflow);
    }
}

#[test]
fn withdraw_takes_from_the_balance() {
    let account = given(&[opened(), deposited(500, 500)])
        .when(withdraw(200))
        .then(&[withdrawn(200, 300)]);
    assert_eq!(account.balance, money(300));
}

#[test]
fn withdraw_of_the_whole_balance_leaves_zero() {
    given(&[opened(), deposited(500, 500)])
        .when(withdraw(500))
        .then(&[withdrawn(500, 0)]);
}

#[test]
fn withdraw_more_than_the_balance_is_rejected_as_insufficient_funds() {
    given(&[opened(), deposited(500, 500)])
        .when(withdraw(501))
        .then_rejected(RejectionCode::InsufficientFunds);
}

#[test]
fn withdraw_from_an_empty_account_is_rejected_as_insufficient_funds() {
    given(&[opened()])
        .when(withdraw(1))
        .then_rejected(RejectionCode::InsufficientFunds);
}

#[test]
fn withdraw_above_the_limit_is_rejected_as_too_large() {
    // Even with the money there: the limit is about the single command.
    given(&[opened(), deposited(5_000, 5_000)])
        .with_max_amount(1_000)
        .when(withdraw(1_001))
        .then_rejected(RejectionCode::AmountTooLarge);
}
