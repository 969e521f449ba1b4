//! Folding events: what a consistent history rebuilds, and every way an
//! inconsistent one is refused.

use eventbank_events::{AccountEvent, AccountStatus, Currency, Money, MoneyError};

use super::harness::*;
use crate::domain::{Account, ApplyError, Limits, apply};

/// The state after `history`, to apply one more event to.
fn state(history: &[AccountEvent]) -> Option<Account> {
    replay(history)
}

#[test]
fn account_opened_starts_an_empty_open_account_from_the_envelope() {
    let account = apply(None, &envelope(1, opened())).expect("applies");
    assert_eq!(
        account,
        Account {
            id: ACCOUNT,
            holder: ann(),
            currency: Currency::EUR,
            balance: Money::ZERO,
            status: AccountStatus::Open,
            version: 1,
            opened_at: at(1),
            updated_at: at(1),
        }
    );
}

#[test]
fn each_event_moves_version_and_updated_at_but_not_opened_at() {
    let account = state(&[opened(), deposited(500, 500), withdrawn(200, 300)]).expect("open");
    assert_eq!(account.version, 3);
    assert_eq!(account.balance, money(300));
    assert_eq!(account.opened_at, at(1));
    assert_eq!(account.updated_at, at(3));
}

#[test]
fn account_closed_closes() {
    let account = state(&[opened(), closed()]).expect("open");
    assert_eq!(account.status, AccountStatus::Closed);
    assert_eq!(account.version, 2);
}

#[test]
fn every_balance_event_is_recomputed() {
    let account = state(&[
        opened(),
        deposited(1_000, 1_000),
        withdrawn(100, 900),
        debited(300, 600),
        credited(50, 650),
        refunded(300, 950),
    ])
    .expect("open");
    assert_eq!(account.balance, money(950));
    assert_eq!(account.version, 6);
}

#[test]
fn business_rules_are_not_reapplied_a_refund_lands_on_a_closed_account() {
    let account = state(&[opened(), closed(), refunded(100, 100)]).expect("open");
    assert_eq!(account.status, AccountStatus::Closed);
    assert_eq!(account.balance, money(100));
}

#[test]
fn a_stream_must_start_with_account_opened() {
    assert_eq!(
        apply(None, &envelope(1, deposited(100, 100))),
        Err(ApplyError::NotOpened {
            sequence: 1,
            event_type: "money_deposited"
        })
    );
}

#[test]
fn a_stream_must_start_at_sequence_one() {
    assert_eq!(
        apply(None, &envelope(2, opened())),
        Err(ApplyError::Gap {
            expected: 1,
            got: 2
        })
    );
    assert_eq!(
        apply(None, &envelope(0, opened())),
        Err(ApplyError::Stale { version: 0, got: 0 })
    );
}

#[test]
fn account_opened_on_an_existing_account_is_refused() {
    assert_eq!(
        apply(state(&[opened()]), &envelope(2, opened())),
        Err(ApplyError::AlreadyOpened {
            account: ACCOUNT,
            sequence: 2
        })
    );
}

#[test]
fn a_skipped_sequence_is_a_gap() {
    assert_eq!(
        apply(
            state(&[opened(), deposited(100, 100)]),
            &envelope(4, deposited(1, 101))
        ),
        Err(ApplyError::Gap {
            expected: 3,
            got: 4
        })
    );
}

#[test]
fn a_repeated_sequence_is_stale() {
    assert_eq!(
        apply(
            state(&[opened(), deposited(100, 100)]),
            &envelope(2, deposited(100, 200))
        ),
        Err(ApplyError::Stale { version: 2, got: 2 })
    );
}

#[test]
fn an_event_of_another_account_is_refused() {
    let foreign = envelope_for(OTHER, 2, deposited(100, 100));
    assert_eq!(
        apply(state(&[opened()]), &foreign),
        Err(ApplyError::WrongStream {
            account: ACCOUNT,
            got: OTHER.into(),
            sequence: 2
        })
    );
}

#[test]
fn a_balance_after_that_does_not_add_up_is_a_mismatch() {
    let err = apply(
        state(&[opened(), deposited(500, 500)]),
        &envelope(3, withdrawn(200, 400)),
    )
    .unwrap_err();
    assert_eq!(
        err,
        ApplyError::BalanceMismatch {
            sequence: 3,
            recorded: money(400),
            recomputed: money(300)
        }
    );
    assert_eq!(
        err.to_string(),
        "event 3: balance_after is 400 but the events add up to 300"
    );
}

#[test]
fn a_balance_that_cannot_be_recomputed_is_an_overflow() {
    assert_eq!(
        apply(
            state(&[opened(), deposited(i64::MAX, i64::MAX)]),
            &envelope(3, credited(1, i64::MIN))
        ),
        Err(ApplyError::Overflow {
            sequence: 3,
            source: MoneyError::Overflow {
                op: "+",
                lhs: money(i64::MAX),
                rhs: money(1)
            }
        })
    );
}

#[test]
fn a_balance_below_zero_is_refused_even_if_it_adds_up() {
    assert_eq!(
        apply(
            state(&[opened(), deposited(100, 100)]),
            &envelope(3, withdrawn(150, -50))
        ),
        Err(ApplyError::NegativeBalance {
            sequence: 3,
            balance: money(-50)
        })
    );
}

#[test]
fn a_debit_in_another_currency_is_refused() {
    let debit_in_usd = AccountEvent::TransferDebited {
        transfer_id: TRANSFER,
        to: OTHER,
        amount: amount(100),
        currency: Currency::USD,
        balance_after: money(0),
    };
    assert_eq!(
        apply(
            state(&[opened(), deposited(100, 100)]),
            &envelope(3, debit_in_usd)
        ),
        Err(ApplyError::CurrencyMismatch {
            sequence: 3,
            account: Currency::EUR,
            event: Currency::USD
        })
    );
}

#[test]
fn replaying_the_log_rebuilds_the_state_decided_step_by_step() {
    let commands = [
        open_account(Currency::EUR),
        deposit(1_000),
        withdraw(5_000), // rejected: appends nothing
        withdraw(250),
        debit(OTHER, 500),
        credit(40, Currency::EUR),
        refund(500),
        withdraw(790),
        close_account(),
    ];
    let limits = Limits::default();
    let mut live = None;
    let mut log = Vec::new();
    for command in &commands {
        let (next, decided) = step(live, command, &limits);
        live = next;
        log.extend(decided.unwrap_or_default());
    }
    assert_eq!(log.len(), commands.len() - 1);
    let rebuilt = replay(&log);
    assert_eq!(rebuilt, live);
    let rebuilt = rebuilt.expect("open");
    assert_eq!(rebuilt.status, AccountStatus::Closed);
    assert_eq!(rebuilt.balance, Money::ZERO);
}
