//! The given/when/then harness and the fixed ids, times and builders the
//! scenarios share. Everything is deterministic so a failure reproduces.

use chrono::{DateTime, Utc};
use eventbank_events::{
    AccountCommand, AccountEvent, AccountEventEnvelope, AccountId, Amount, CommandId,
    CorrelationId, Currency, EventId, Holder, Money, Rejection, RejectionCode,
    TransferFailureReason, TransferId, WireRecord,
};
use uuid::Uuid;

use crate::domain::{Account, Limits, apply, decide};

/// The account every scenario is about.
pub const ACCOUNT: AccountId = AccountId::from_uuid(Uuid::from_u128(0xA11CE));
/// The other side of a transfer.
pub const OTHER: AccountId = AccountId::from_uuid(Uuid::from_u128(0xB0B));
pub const TRANSFER: TransferId = TransferId::from_uuid(Uuid::from_u128(0x7F));

pub fn amount(minor_units: i64) -> Amount {
    Amount::new(minor_units).expect("test amounts are positive")
}

pub const fn money(minor_units: i64) -> Money {
    Money::new(minor_units)
}

pub fn ann() -> Holder {
    Holder::parse("Ann").expect("valid holder")
}

/// When the event at `sequence` happened: one second apart, from a fixed start.
pub fn at(sequence: u64) -> DateTime<Utc> {
    let offset = i64::try_from(sequence).expect("test sequences are small");
    DateTime::from_timestamp(1_700_000_000 + offset, 0).expect("in range")
}

/// When every scenario's command is decided: after any history, before
/// [`later`].
pub fn now() -> DateTime<Utc> {
    at(1_000)
}

/// A deadline still ahead of [`now`].
pub fn later() -> DateTime<Utc> {
    at(2_000)
}

/// A deadline already behind [`now`].
pub fn earlier() -> DateTime<Utc> {
    at(999)
}

/// `event` as the `sequence`-th event of [`ACCOUNT`].
pub fn envelope(sequence: u64, event: AccountEvent) -> AccountEventEnvelope {
    envelope_for(ACCOUNT, sequence, event)
}

pub fn envelope_for(
    account: AccountId,
    sequence: u64,
    event: AccountEvent,
) -> AccountEventEnvelope {
    let n = u128::from(sequence);
    AccountEventEnvelope {
        schema_version: AccountEventEnvelope::CURRENT_VERSION,
        event_id: EventId::from_uuid(Uuid::from_u128(0xE000 + n)),
        stream_id: account.into(),
        sequence,
        occurred_at: at(sequence),
        command_id: CommandId::from_uuid(Uuid::from_u128(0xC000 + n)),
        causation_id: None,
        correlation_id: CorrelationId::from_uuid(Uuid::from_u128(0xD000 + n)),
        event,
    }
}

/// Folds `events` (sequences 1, 2, …) into an account; any apply error fails
/// the test, since a scenario's history must itself be consistent.
pub fn replay(events: &[AccountEvent]) -> Option<Account> {
    events
        .iter()
        .zip(1..)
        .fold(None, |state, (event, sequence)| {
            Some(apply(state, &envelope(sequence, event.clone())).expect("history applies"))
        })
}

/// Decides `command` against `state` and, if accepted, applies the events with
/// the next sequences — the processor's loop, minus Kafka.
pub fn step(
    state: Option<Account>,
    command: &AccountCommand,
    limits: &Limits,
) -> (Option<Account>, Result<Vec<AccountEvent>, Rejection>) {
    let decided = decide(state.as_ref(), command, limits, now());
    let Ok(events) = &decided else {
        return (state, decided);
    };
    let mut state = state;
    for event in events {
        let sequence = state.as_ref().map_or(0, |account| account.version) + 1;
        state =
            Some(apply(state, &envelope(sequence, event.clone())).expect("decided events apply"));
    }
    (state, decided)
}

// ---- given / when / then ----

/// An account with this history, about to receive a command.
#[derive(Debug)]
pub struct Given {
    state: Option<Account>,
    limits: Limits,
}

pub fn given(history: &[AccountEvent]) -> Given {
    Given {
        state: replay(history),
        limits: Limits::default(),
    }
}

impl Given {
    pub fn with_max_amount(mut self, max_amount: i64) -> Self {
        self.limits = Limits { max_amount };
        self
    }

    pub fn when(self, command: AccountCommand) -> When {
        let (after, decided) = step(self.state.clone(), &command, &self.limits);
        When {
            before: self.state,
            after,
            command,
            decided,
        }
    }
}

/// What deciding a command gave, and the state after applying it.
#[derive(Debug)]
pub struct When {
    before: Option<Account>,
    after: Option<Account>,
    command: AccountCommand,
    decided: Result<Vec<AccountEvent>, Rejection>,
}

impl When {
    /// Asserts the command was accepted with exactly `expected`; returns the
    /// account after applying them, for further checks.
    #[track_caller]
    pub fn then(self, expected: &[AccountEvent]) -> Account {
        match self.decided {
            Ok(events) => assert_eq!(events, expected, "{:?}", self.command),
            Err(rejection) => panic!("{:?} was rejected: {rejection}", self.command),
        }
        self.after.expect("an accepted command leaves an account")
    }

    /// Asserts the command was refused with `code`.
    #[track_caller]
    pub fn then_rejected(self, code: RejectionCode) -> Rejection {
        let command = self.command.clone();
        let rejection = self.then_any_rejection();
        assert_eq!(rejection.code, code, "{command:?}: {rejection}");
        rejection
    }

    /// Asserts the command was refused, with a message, and that the state is
    /// untouched.
    #[track_caller]
    pub fn then_any_rejection(self) -> Rejection {
        match self.decided {
            Ok(events) => panic!("{:?} was accepted with {events:?}", self.command),
            Err(rejection) => {
                assert!(!rejection.message.is_empty(), "{:?}", self.command);
                assert_eq!(self.after, self.before, "a rejection changes nothing");
                rejection
            }
        }
    }
}

// ---- commands ----

pub fn open_account(currency: Currency) -> AccountCommand {
    AccountCommand::OpenAccount {
        holder: ann(),
        currency,
    }
}

pub fn deposit(n: i64) -> AccountCommand {
    AccountCommand::Deposit { amount: amount(n) }
}

pub fn withdraw(n: i64) -> AccountCommand {
    AccountCommand::Withdraw { amount: amount(n) }
}

pub fn close_account() -> AccountCommand {
    AccountCommand::CloseAccount {}
}

pub fn debit(to: AccountId, n: i64) -> AccountCommand {
    debit_of(TRANSFER, to, n)
}

pub fn debit_of(transfer_id: TransferId, to: AccountId, n: i64) -> AccountCommand {
    AccountCommand::DebitForTransfer {
        transfer_id,
        to,
        amount: amount(n),
    }
}

pub fn credit(n: i64, currency: Currency) -> AccountCommand {
    credit_due(n, currency, None)
}

/// A credit the target must decide by `deadline`.
pub fn credit_due(n: i64, currency: Currency, deadline: Option<DateTime<Utc>>) -> AccountCommand {
    AccountCommand::CreditForTransfer {
        transfer_id: TRANSFER,
        from: OTHER,
        amount: amount(n),
        currency,
        deadline,
    }
}

pub fn refund(n: i64) -> AccountCommand {
    refund_of(TRANSFER, n)
}

pub fn refund_of(transfer_id: TransferId, n: i64) -> AccountCommand {
    AccountCommand::RefundTransfer {
        transfer_id,
        amount: amount(n),
        reason: TransferFailureReason::CurrencyMismatch,
    }
}

// ---- events ----

/// [`ACCOUNT`] opened for Ann, in EUR.
pub fn opened() -> AccountEvent {
    AccountEvent::AccountOpened {
        holder: ann(),
        currency: Currency::EUR,
    }
}

pub fn deposited(n: i64, after: i64) -> AccountEvent {
    AccountEvent::MoneyDeposited {
        amount: amount(n),
        balance_after: money(after),
    }
}

pub fn withdrawn(n: i64, after: i64) -> AccountEvent {
    AccountEvent::MoneyWithdrawn {
        amount: amount(n),
        balance_after: money(after),
    }
}

pub fn closed() -> AccountEvent {
    AccountEvent::AccountClosed {}
}

pub fn debited(n: i64, after: i64) -> AccountEvent {
    AccountEvent::TransferDebited {
        transfer_id: TRANSFER,
        to: OTHER,
        amount: amount(n),
        currency: Currency::EUR,
        balance_after: money(after),
    }
}

pub fn credited(n: i64, after: i64) -> AccountEvent {
    credited_due(n, after, None)
}

/// The credit of a command that had `deadline`.
pub fn credited_due(n: i64, after: i64, deadline: Option<DateTime<Utc>>) -> AccountEvent {
    AccountEvent::TransferCredited {
        transfer_id: TRANSFER,
        from: OTHER,
        amount: amount(n),
        balance_after: money(after),
        deadline,
    }
}

pub fn refunded(n: i64, after: i64) -> AccountEvent {
    AccountEvent::TransferRefunded {
        transfer_id: TRANSFER,
        amount: amount(n),
        reason: TransferFailureReason::CurrencyMismatch,
        balance_after: money(after),
    }
}
