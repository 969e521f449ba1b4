//! Builders for tests (feature `testing`, off by default): envelopes with
//! fresh ids and the current time, and the events, histories and results
//! tests write most. One set, so every crate's tests build records alike.
//!
//! Everything is in EUR with amounts in minor units. Readers take balances
//! from `balance_after` instead of adding amounts up, so the event builders
//! take it from the caller, who keeps it consistent with the amounts.

use chrono::Utc;

use crate::{
    AccountEvent, AccountEventEnvelope, AccountId, Amount, CommandId, CommandOutcome,
    CommandResult, CorrelationId, Currency, EventEnvelope, EventId, Holder, Money, RejectionCode,
    StreamId, TransferEvent, TransferFailureReason, TransferId,
};

/// `event` as the `sequence`th event of `stream`, caused by a new command.
pub fn envelope<E>(stream: StreamId, sequence: u64, event: E) -> EventEnvelope<E> {
    EventEnvelope {
        schema_version: 1,
        event_id: EventId::new(),
        stream_id: stream,
        sequence,
        occurred_at: Utc::now(),
        command_id: CommandId::new(),
        causation_id: None,
        correlation_id: CorrelationId::new(),
        event,
    }
}

pub fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

pub fn amount(minor: i64) -> Amount {
    Amount::new(minor).unwrap()
}

pub fn opened(holder: &str) -> AccountEvent {
    AccountEvent::AccountOpened {
        holder: Holder::parse(holder).unwrap(),
        currency: eur(),
    }
}

pub fn deposited(minor: i64, after: i64) -> AccountEvent {
    AccountEvent::MoneyDeposited {
        amount: amount(minor),
        balance_after: Money::new(after),
    }
}

pub fn withdrawn(minor: i64, after: i64) -> AccountEvent {
    AccountEvent::MoneyWithdrawn {
        amount: amount(minor),
        balance_after: Money::new(after),
    }
}

pub fn debited(transfer: TransferId, to: AccountId, minor: i64, after: i64) -> AccountEvent {
    AccountEvent::TransferDebited {
        transfer_id: transfer,
        to,
        amount: amount(minor),
        currency: eur(),
        balance_after: Money::new(after),
    }
}

pub fn credited(transfer: TransferId, from: AccountId, minor: i64, after: i64) -> AccountEvent {
    AccountEvent::TransferCredited {
        transfer_id: transfer,
        from,
        amount: amount(minor),
        balance_after: Money::new(after),
        deadline: None,
    }
}

/// Refunded because the account to credit was closed.
pub fn refunded(transfer: TransferId, minor: i64, after: i64) -> AccountEvent {
    AccountEvent::TransferRefunded {
        transfer_id: transfer,
        amount: amount(minor),
        reason: TransferFailureReason::AccountClosed,
        balance_after: Money::new(after),
    }
}

pub fn completed(from: AccountId, to: AccountId, minor: i64) -> TransferEvent {
    TransferEvent::TransferCompleted {
        from,
        to,
        amount: amount(minor),
        currency: eur(),
    }
}

/// Failed because the account to credit was closed.
pub fn failed(from: AccountId, to: AccountId, minor: i64) -> TransferEvent {
    TransferEvent::TransferFailed {
        from,
        to,
        amount: amount(minor),
        currency: eur(),
        reason: TransferFailureReason::AccountClosed,
    }
}

/// What an account does in a synthetic history.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    Deposit(i64),
    Withdraw(i64),
}

/// `account`'s events from its opening by "Ann Auditor" through `steps`, with
/// consecutive sequences and balances that add up.
pub fn account_history(account: AccountId, steps: &[Step]) -> Vec<AccountEventEnvelope> {
    let mut balance = 0;
    let mut events = vec![envelope(account.into(), 1, opened("Ann Auditor"))];
    for (index, step) in steps.iter().enumerate() {
        let event = match *step {
            Step::Deposit(minor) => {
                balance += minor;
                deposited(minor, balance)
            }
            Step::Withdraw(minor) => {
                balance -= minor;
                withdrawn(minor, balance)
            }
        };
        events.push(envelope(account.into(), index as u64 + 2, event));
    }
    events
}

/// A new command aimed at `account`, rejected for insufficient funds.
pub fn rejection(account: AccountId) -> CommandResult {
    CommandResult::new(
        CommandId::new(),
        account,
        CorrelationId::new(),
        Utc::now(),
        CommandOutcome::rejected(RejectionCode::InsufficientFunds, "balance too low"),
    )
}
