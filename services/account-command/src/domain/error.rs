//! Why an event could not be applied to an account.
//!
//! Every variant means the event log (or whoever feeds `apply`) is wrong, not
//! the client: the log is the truth, so a disagreement with it is a bug to
//! surface loudly rather than paper over.

use eventbank_events::{AccountId, Currency, Money, MoneyError, StreamId};

/// An event that does not follow from the state it is applied to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// The event is not newer than the state: a duplicate or a replay. Callers
    /// that can see redeliveries may skip it; a gap they must not.
    #[error("event {got} is stale: the account is already at version {version}")]
    Stale { version: u64, got: u64 },
    /// Events are missing between the state and this one.
    #[error("gap in the event stream: expected sequence {expected}, got {got}")]
    Gap { expected: u64, got: u64 },
    /// A stream must start with `account_opened`.
    #[error(
        "event {sequence} ({event_type}) cannot start an account: its first event must be account_opened"
    )]
    NotOpened {
        sequence: u64,
        event_type: &'static str,
    },
    /// `account_opened` on an account that already exists.
    #[error("account {account} is already open; event {sequence} opens it again")]
    AlreadyOpened { account: AccountId, sequence: u64 },
    /// The event belongs to another stream.
    #[error("event {sequence} belongs to stream {got}, not to account {account}")]
    WrongStream {
        account: AccountId,
        got: StreamId,
        sequence: u64,
    },
    /// Recomputing the balance does not fit in 64-bit minor units.
    #[error("event {sequence}: recomputing the balance failed: {source}")]
    Overflow {
        sequence: u64,
        #[source]
        source: MoneyError,
    },
    /// The event's `balance_after` disagrees with the balance the events add up to.
    #[error("event {sequence}: balance_after is {recorded} but the events add up to {recomputed}")]
    BalanceMismatch {
        sequence: u64,
        recorded: Money,
        recomputed: Money,
    },
    /// The event takes the balance below zero, which no decision may do.
    #[error("event {sequence} leaves the account with a negative balance of {balance}")]
    NegativeBalance { sequence: u64, balance: Money },
    /// A debit recorded in another currency than the account holds.
    #[error("event {sequence} debits {event} but the account holds {account}")]
    CurrencyMismatch {
        sequence: u64,
        account: Currency,
        event: Currency,
    },
}
