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
fn any_command_but_open_on_a_missing_account_is_rejected_as_not_found() {
    for command in [
        deposit(100),
        withdraw(100),
        close_account(),
        debit(OTHER, 100),
        credit(100, Currency::EUR),
        refund(100),
    ] {
        given(&[])
            .when(command)
            .then_rejected(RejectionCode::AccountNotFound);
    }
}
