//! The preconditions several commands share, each turning a broken rule into
//! the [`Rejection`] the client sees.
//!
//! Balances are computed with checked arithmetic only: a wrapped `i64` would
//! create or destroy money, so an overflow is a rejection, never a wrap.

use eventbank_events::{Amount, Money, Rejection, RejectionCode};

use super::account::Account;
use super::limits::Limits;

/// A closed account accepts nothing that would change it.
pub(super) fn ensure_open(account: &Account) -> Result<(), Rejection> {
    if account.is_closed() {
        return Err(Rejection::new(
            RejectionCode::AccountClosed,
            format!("account {} is closed", account.id),
        ));
    }
    Ok(())
}

/// The per-command business limit. `Amount` already guarantees `> 0`, so the
/// upper bound is the only thing left to check.
pub(super) fn ensure_within_limit(amount: Amount, limits: &Limits) -> Result<(), Rejection> {
    if amount.minor_units() > limits.max_amount {
        return Err(Rejection::new(
            RejectionCode::AmountTooLarge,
            format!(
                "amount {amount} exceeds the limit of {} minor units per command",
                limits.max_amount
            ),
        ));
    }
    Ok(())
}

/// The balance after `amount` comes in.
pub(super) fn balance_plus(account: &Account, amount: Amount) -> Result<Money, Rejection> {
    account
        .balance
        .checked_add(amount.as_money())
        .map_err(|_| {
            Rejection::new(
                RejectionCode::BalanceOverflow,
                format!(
                    "crediting {amount} to a balance of {} would exceed the largest representable balance",
                    account.balance
                ),
            )
        })
}

/// The balance after `amount` goes out; it may never drop below zero.
pub(super) fn balance_minus(account: &Account, amount: Amount) -> Result<Money, Rejection> {
    let insufficient = || {
        Rejection::new(
            RejectionCode::InsufficientFunds,
            format!(
                "balance {} is less than the {amount} requested",
                account.balance
            ),
        )
    };
    // Only a corrupt (hugely negative) balance could make this subtraction
    // overflow, and such an account has insufficient funds either way.
    let after = account
        .balance
        .checked_sub(amount.as_money())
        .map_err(|_| insufficient())?;
    if after.is_negative() {
        return Err(insufficient());
    }
    Ok(after)
}
