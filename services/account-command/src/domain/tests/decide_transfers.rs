//! The three transfer legs: debit at the source, credit at the target, refund
//! back to the source.

use eventbank_events::{AccountEvent, Currency, RejectionCode, TransferFailureReason};

use super::harness::*;

#[test]
fn debit_takes_the_amount_out_in_the_account_currency() {
    let account = given(&[opened(), deposited(500, 500)])
        .when(debit(OTHER, 200))
        .then(&[AccountEvent::TransferDebited {
            transfer_id: TRANSFER,
            to: OTHER,
            amount: amount(200),
            currency: Currency::EUR,
            balance_after: money(300),
        }]);
    assert_eq!(account.balance, money(300));
}

#[test]
fn debit_to_the_same_account_is_rejected() {
    given(&[opened(), deposited(500, 500)])
        .when(debit(ACCOUNT, 200))
        .then_rejected(RejectionCode::SameAccount);
}

#[test]
fn debit_more_than_the_balance_is_rejected_as_insufficient_funds() {
    given(&[opened(), deposited(500, 500)])
        .when(debit(OTHER, 501))
        .then_rejected(RejectionCode::InsufficientFunds);
}

#[test]
fn debit_above_the_limit_is_rejected_as_too_large() {
    given(&[opened(), deposited(5_000, 5_000)])
        .with_max_amount(1_000)
        .when(debit(OTHER, 1_001))
        .then_rejected(RejectionCode::AmountTooLarge);
}

#[test]
fn credit_adds_the_amount() {
    let account = given(&[opened(), deposited(100, 100)])
        .when(credit(250, Currency::EUR))
        .then(&[AccountEvent::TransferCredited {
            transfer_id: TRANSFER,
            from: OTHER,
            amount: amount(250),
            balance_after: money(350),
            deadline: None,
        }]);
    assert_eq!(account.balance, money(350));
}

#[test]
fn credit_in_another_currency_is_rejected_as_currency_mismatch() {
    given(&[opened()])
        .when(credit(250, Currency::USD))
        .then_rejected(RejectionCode::CurrencyMismatch);
}

#[test]
fn credit_above_the_limit_is_still_accepted() {
    // The debit was vetted; refusing the credit for a limit has no failure
    // reason the saga could refund on, so the transfer would never end.
    given(&[opened()])
        .with_max_amount(1_000)
        .when(credit(5_000, Currency::EUR))
        .then(&[credited(5_000, 5_000)]);
}

#[test]
fn every_credit_rejection_is_one_the_saga_can_refund_on() {
    let rejections = [
        given(&[]).when(credit(1, Currency::EUR)),
        given(&[opened(), closed()]).when(credit(1, Currency::EUR)),
        given(&[opened()]).when(credit(1, Currency::USD)),
        given(&[opened(), deposited(i64::MAX, i64::MAX)]).when(credit(1, Currency::EUR)),
    ];
    for when in rejections {
        let code = when.then_any_rejection().code;
        assert!(
            TransferFailureReason::for_rejected_credit(code).is_some(),
            "{code}"
        );
    }
}

#[test]
fn refund_gives_the_debited_amount_back() {
    let account = given(&[opened(), deposited(500, 500), debited(200, 300)])
        .when(refund(200))
        .then(&[AccountEvent::TransferRefunded {
            transfer_id: TRANSFER,
            amount: amount(200),
            reason: TransferFailureReason::CurrencyMismatch,
            balance_after: money(500),
        }]);
    assert_eq!(account.balance, money(500));
}

#[test]
fn refund_above_the_limit_is_still_accepted() {
    // Refusing a refund would strand the money in flight for good.
    given(&[opened(), deposited(5_000, 5_000), debited(5_000, 0)])
        .with_max_amount(1_000)
        .when(refund(5_000))
        .then(&[refunded(5_000, 5_000)]);
}

#[test]
fn credit_before_its_deadline_is_accepted() {
    given(&[opened()])
        .when(credit_due(250, Currency::EUR, Some(later())))
        .then(&[credited_due(250, 250, Some(later()))]);
}

#[test]
fn credit_after_its_deadline_is_rejected_as_expired() {
    given(&[opened(), deposited(100, 100)])
        .when(credit_due(250, Currency::EUR, Some(earlier())))
        .then_rejected(RejectionCode::TransferExpired);
}

#[test]
fn expired_credit_is_rejected_as_expired_even_for_an_unknown_account() {
    // Expiry is checked first, so the answer depends only on when the credit
    // was decided, and the transfer fails with reason `timeout`.
    given(&[])
        .when(credit_due(250, Currency::EUR, Some(earlier())))
        .then_rejected(RejectionCode::TransferExpired);
}

#[test]
fn expired_credit_maps_to_the_timeout_failure_reason() {
    assert_eq!(
        TransferFailureReason::for_rejected_credit(RejectionCode::TransferExpired),
        Some(TransferFailureReason::Timeout)
    );
}

#[test]
fn refund_to_an_account_closed_while_its_transfer_was_in_flight_is_accepted() {
    // Decided rule (docs/DESIGN.md): the money goes back to its owner; the
    // account stays closed with a non-zero balance that operators pay out.
    // Refusing would leave it in flight forever.
    let account = given(&[opened(), deposited(200, 200), debited(200, 0), closed()])
        .when(refund(200))
        .then(&[refunded(200, 200)]);
    assert!(account.is_closed());
    assert_eq!(account.balance, money(200));
}
