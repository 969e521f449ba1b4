//! `apply`: folds one event into the account, checking that it really follows
//! from the state it is applied to.
//!
//! Business rules are not re-checked here (a refund may land on a closed
//! account, say): they are `decide`'s, and may differ between the release that
//! wrote an event and the one replaying it. What is checked is what any
//! release's events must satisfy to be a consistent history — one stream, no
//! gaps, opened first, and balances that add up.

use eventbank_events::{
    AccountEvent, AccountEventEnvelope, AccountStatus, Amount, Money, MoneyError,
};

use super::account::Account;
use super::error::ApplyError;

/// `state` after `event`; `state` is `None` before the account's first event.
///
/// # Errors
///
/// An [`ApplyError`] when `event` does not follow from `state`: another
/// stream, a stale or out-of-order sequence, a wrong first event, or a balance
/// that does not add up. The state is consumed either way; keep a clone if
/// the caller must carry on after a failure.
pub fn apply(state: Option<Account>, event: &AccountEventEnvelope) -> Result<Account, ApplyError> {
    match state {
        None => open(event),
        Some(account) => evolve(account, event),
    }
}

/// The only way into existence: sequence 1, `account_opened`.
fn open(envelope: &AccountEventEnvelope) -> Result<Account, ApplyError> {
    ensure_next(0, envelope.sequence)?;
    let AccountEvent::AccountOpened { holder, currency } = &envelope.event else {
        return Err(ApplyError::NotOpened {
            sequence: envelope.sequence,
            event_type: envelope.event.event_type(),
        });
    };
    Ok(Account {
        id: envelope.account_id(),
        holder: holder.clone(),
        currency: *currency,
        balance: Money::ZERO,
        status: AccountStatus::Open,
        version: envelope.sequence,
        opened_at: envelope.occurred_at,
        updated_at: envelope.occurred_at,
    })
}

fn evolve(mut account: Account, envelope: &AccountEventEnvelope) -> Result<Account, ApplyError> {
    let sequence = envelope.sequence;
    if envelope.account_id() != account.id {
        return Err(ApplyError::WrongStream {
            account: account.id,
            got: envelope.stream_id,
            sequence,
        });
    }
    ensure_next(account.version, sequence)?;
    let balance = account.balance;
    match &envelope.event {
        AccountEvent::AccountOpened { .. } => {
            return Err(ApplyError::AlreadyOpened {
                account: account.id,
                sequence,
            });
        }
        AccountEvent::AccountClosed {} => account.status = AccountStatus::Closed,
        AccountEvent::MoneyDeposited {
            amount,
            balance_after,
        } => {
            account.balance = settle(sequence, plus(balance, *amount), *balance_after)?;
        }
        AccountEvent::TransferCredited {
            amount,
            balance_after,
            ..
        }
        | AccountEvent::TransferRefunded {
            amount,
            balance_after,
            ..
        } => {
            account.balance = settle(sequence, plus(balance, *amount), *balance_after)?;
        }
        AccountEvent::MoneyWithdrawn {
            amount,
            balance_after,
        } => {
            account.balance = settle(sequence, minus(balance, *amount), *balance_after)?;
        }
        AccountEvent::TransferDebited {
            amount,
            currency,
            balance_after,
            ..
        } => {
            // The credit leg trusts this currency; a wrong one would move money
            // between currencies without anyone converting it.
            if *currency != account.currency {
                return Err(ApplyError::CurrencyMismatch {
                    sequence,
                    account: account.currency,
                    event: *currency,
                });
            }
            account.balance = settle(sequence, minus(balance, *amount), *balance_after)?;
        }
    }
    account.version = sequence;
    account.updated_at = envelope.occurred_at;
    Ok(account)
}

/// `got` must be exactly `version + 1`.
fn ensure_next(version: u64, got: u64) -> Result<(), ApplyError> {
    if got <= version {
        return Err(ApplyError::Stale { version, got });
    }
    // `got > version`, so `version + 1` cannot overflow here.
    let expected = version + 1;
    if got != expected {
        return Err(ApplyError::Gap { expected, got });
    }
    Ok(())
}

fn plus(balance: Money, amount: Amount) -> Result<Money, MoneyError> {
    balance.checked_add(amount.as_money())
}

fn minus(balance: Money, amount: Amount) -> Result<Money, MoneyError> {
    balance.checked_sub(amount.as_money())
}

/// The new balance: the recomputed one, which the event must agree with and
/// which must not be negative.
fn settle(
    sequence: u64,
    recomputed: Result<Money, MoneyError>,
    recorded: Money,
) -> Result<Money, ApplyError> {
    let recomputed = recomputed.map_err(|source| ApplyError::Overflow { sequence, source })?;
    if recomputed != recorded {
        return Err(ApplyError::BalanceMismatch {
            sequence,
            recorded,
            recomputed,
        });
    }
    if recomputed.is_negative() {
        return Err(ApplyError::NegativeBalance {
            sequence,
            balance: recomputed,
        });
    }
    Ok(recomputed)
}
