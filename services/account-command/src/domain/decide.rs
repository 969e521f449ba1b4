//! `decide`: what a command does to an account — the events it produces, or
//! why it is refused. All business rules live here.
//!
//! Checks run in one fixed order so that a command breaking several rules
//! always gets the same answer: the account must exist, then be open, then the
//! request must make sense for it (limit, counterpart, currency), and only then
//! is the balance arithmetic done.
//!
//! The two transfer legs the saga issues after a debit was accepted —
//! `CreditForTransfer` and `RefundTransfer` — are deliberately exempt from the
//! amount limit: the amount was vetted when it was debited, and a credit or
//! refund refused for a limit (say, one lowered by a config change in between)
//! has no failure reason the saga can act on, so the transfer would never end.

use chrono::{DateTime, Utc};
use eventbank_events::{
    AccountCommand, AccountEvent, AccountId, Amount, Currency, Holder, Money, Rejection,
    RejectionCode, TransferFailureReason, TransferId,
};

use super::account::Account;
use super::checks::{balance_minus, balance_plus, ensure_open, ensure_within_limit};
use super::limits::Limits;

/// The events `command` produces against `state` (`None`: the account does not
/// exist yet), in the order the caller must append them, deciding at `now`
/// (only a transfer credit's deadline depends on it).
///
/// # Errors
///
/// A [`Rejection`] when a business rule refuses the command; nothing is to be
/// appended then. Its code is one of `AccountNotFound`, `AccountAlreadyExists`,
/// `AccountClosed`, `AmountTooLarge`, `SameAccount`, `CurrencyMismatch`,
/// `InsufficientFunds`, `BalanceNotZero`, `BalanceOverflow` or
/// `TransferExpired`.
pub fn decide(
    state: Option<&Account>,
    command: &AccountCommand,
    limits: &Limits,
    now: DateTime<Utc>,
) -> Result<Vec<AccountEvent>, Rejection> {
    if let AccountCommand::CreditForTransfer {
        transfer_id,
        deadline,
        ..
    } = command
    {
        ensure_not_expired(*transfer_id, *deadline, now)?;
    }
    let Some(account) = state else {
        return match command {
            AccountCommand::OpenAccount { holder, currency } => Ok(vec![open(holder, *currency)]),
            _ => Err(Rejection::new(
                RejectionCode::AccountNotFound,
                "the account does not exist",
            )),
        };
    };
    let event = match command {
        AccountCommand::OpenAccount { .. } => Err(Rejection::new(
            RejectionCode::AccountAlreadyExists,
            format!("account {} already exists", account.id),
        )),
        AccountCommand::Deposit { amount } => deposit(account, *amount, limits),
        AccountCommand::Withdraw { amount } => withdraw(account, *amount, limits),
        AccountCommand::CloseAccount {} => close(account),
        AccountCommand::DebitForTransfer {
            transfer_id,
            to,
            amount,
        } => debit(account, *transfer_id, *to, *amount, limits),
        AccountCommand::CreditForTransfer {
            transfer_id,
            from,
            amount,
            currency,
            deadline,
        } => credit(account, *transfer_id, *from, *amount, *currency, *deadline),
        AccountCommand::RefundTransfer {
            transfer_id,
            amount,
            reason,
        } => refund(account, *transfer_id, *amount, *reason),
    }?;
    Ok(vec![event])
}

fn open(holder: &Holder, currency: Currency) -> AccountEvent {
    AccountEvent::AccountOpened {
        holder: holder.clone(),
        currency,
    }
}

fn deposit(account: &Account, amount: Amount, limits: &Limits) -> Result<AccountEvent, Rejection> {
    Ok(AccountEvent::MoneyDeposited {
        amount,
        balance_after: cash(account, amount, limits, balance_plus)?,
    })
}

fn withdraw(account: &Account, amount: Amount, limits: &Limits) -> Result<AccountEvent, Rejection> {
    Ok(AccountEvent::MoneyWithdrawn {
        amount,
        balance_after: cash(account, amount, limits, balance_minus)?,
    })
}

/// The balance after a deposit or withdrawal of `amount` (`balance` is
/// which), once the account is open and the amount within the limit.
fn cash(
    account: &Account,
    amount: Amount,
    limits: &Limits,
    balance: fn(&Account, Amount) -> Result<Money, Rejection>,
) -> Result<Money, Rejection> {
    ensure_open(account)?;
    ensure_within_limit(amount, limits)?;
    balance(account, amount)
}

fn close(account: &Account) -> Result<AccountEvent, Rejection> {
    // Closing a closed account is refused rather than ignored: the client asked
    // for a change and none happened, which it should hear about.
    ensure_open(account)?;
    if !account.balance.is_zero() {
        return Err(Rejection::new(
            RejectionCode::BalanceNotZero,
            format!(
                "account {} still holds {}; only an empty account can be closed",
                account.id, account.balance
            ),
        ));
    }
    Ok(AccountEvent::AccountClosed {})
}

fn debit(
    account: &Account,
    transfer_id: TransferId,
    to: AccountId,
    amount: Amount,
    limits: &Limits,
) -> Result<AccountEvent, Rejection> {
    ensure_open(account)?;
    if to == account.id {
        return Err(Rejection::new(
            RejectionCode::SameAccount,
            format!("transfer {transfer_id} would move money from account {to} to itself"),
        ));
    }
    ensure_within_limit(amount, limits)?;
    Ok(AccountEvent::TransferDebited {
        transfer_id,
        to,
        amount,
        // The saga passes this on to the credit, which the target refuses
        // unless it holds the same currency: no conversion ever happens.
        currency: account.currency,
        balance_after: balance_minus(account, amount)?,
    })
}

/// A credit decided after its deadline is refused whatever the account: the
/// saga has (or will have) given up on it and refunds the source, so applying
/// it now would pay the transfer twice. The check comes before everything
/// else so that the answer depends only on when it is decided.
fn ensure_not_expired(
    transfer_id: TransferId,
    deadline: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), Rejection> {
    match deadline {
        Some(deadline) if now > deadline => Err(Rejection::new(
            RejectionCode::TransferExpired,
            format!("the credit of transfer {transfer_id} was due by {deadline}, decided at {now}"),
        )),
        _ => Ok(()),
    }
}

fn credit(
    account: &Account,
    transfer_id: TransferId,
    from: AccountId,
    amount: Amount,
    currency: Currency,
    deadline: Option<DateTime<Utc>>,
) -> Result<AccountEvent, Rejection> {
    // Every refusal here must be one `TransferFailureReason::for_rejected_credit`
    // maps (not found, closed, currency, overflow), or the saga cannot refund.
    ensure_open(account)?;
    if currency != account.currency {
        return Err(Rejection::new(
            RejectionCode::CurrencyMismatch,
            format!(
                "transfer {transfer_id} is in {currency} but account {} holds {}",
                account.id, account.currency
            ),
        ));
    }
    Ok(AccountEvent::TransferCredited {
        transfer_id,
        from,
        amount,
        balance_after: balance_plus(account, amount)?,
        deadline,
    })
}

/// Gives back a debit whose credit failed — whatever the account's status.
///
/// The source may have been emptied and closed while its transfer was in
/// flight: the account does not track pending transfers, so close cannot wait
/// for them. Refusing the refund then would leave the money in flight forever
/// (the transfer never ends, and money is no longer conserved in any view).
/// Accepting it keeps the money with its owner: the account stays closed,
/// with a non-zero balance that operators see in the read model and pay out.
fn refund(
    account: &Account,
    transfer_id: TransferId,
    amount: Amount,
    reason: TransferFailureReason,
) -> Result<AccountEvent, Rejection> {
    Ok(AccountEvent::TransferRefunded {
        transfer_id,
        amount,
        reason,
        balance_after: balance_plus(account, amount)?,
    })
}
