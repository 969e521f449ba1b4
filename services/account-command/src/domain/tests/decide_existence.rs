//! Opening an account, and what every other command meets before it exists.

use eventbank_events::{AccountStatus, Currency, Money, RejectionCode};

use super::harness::*;

#[test]
fn open_account_on_a_new_id_opens_it_empty() {
    let account = given(&[])
        .when(open_account(Currency::EUR))
        .then(&[opened()]);
    assert_eq!(account.id, ACCOUNT);
    assert_eq!(account.holder, ann());
    assert_eq!(account.currency, Currency::EUR);
    assert_eq!(account.balance, Money::ZERO);
    assert_eq!(account.status, AccountStatus::Open);
    assert_eq!(account.version, 1);
}

#[test]
fn open_account_twice_is_rejected_as_already_existing() {
    given(&[opened()])
        .when(open_account(Currency::USD))
        .then_rejected(RejectionCode::AccountAlreadyExists);
}

#[test]
fn open_account_on_a_closed_account_is_rejected_as_already_existing() {
    // Ids are never reused: a closed account still owns its stream.
    given(&[opened(), closed()])
        .when(open_account(Currency::EUR))
        .then_rejected(RejectionCode::AccountAlreadyExists);
}

#[test]
fn deposit_on_a_missing_account_is_rejected_as_not_found() {
    given(&[])
        .when(deposit(100))
        .then_rejected(RejectionCode::AccountNotFound);
}

#[test]
fn withdraw_on_a_missing_account_is_rejected_as_not_found() {
    given(&[])
        .when(withdraw(100))
        .then_rejected(RejectionCode::AccountNotFound);
}

#[test]
fn close_on_a_missing_account_is_rejected_as_not_found() {
    given(&[])
        .when(close_account())
        .then_rejected(RejectionCode::AccountNotFound);
}

#[test]
fn debit_on_a_missing_account_is_rejected_as_not_found() {
    given(&[])
        .when(debit(OTHER, 100))
        .then_rejected(RejectionCode::AccountNotFound);
}

#[test]
fn credit_on_a_missing_account_is_rejected_as_not_found() {
    given(&[])
        .when(credit(100, Currency::EUR))
        .then_rejected(RejectionCode::AccountNotFound);
}

#[test]
fn refund_on_a_missing_account_is_rejected_as_not_found() {
    given(&[])
        .when(refund(100))
        .then_rejected(RejectionCode::AccountNotFound);
}
