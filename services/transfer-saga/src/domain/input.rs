//! What the saga reacts to: a transfer leg's event, or a leg's rejection.

use chrono::{DateTime, Utc};
use eventbank_events::{
    AccountEvent, AccountEventEnvelope, AccountId, Amount, CommandId, CommandOutcome,
    CommandResult, CorrelationId, Currency, EventId, Rejection, TransferId, TransferSagaSnapshot,
    TransferStep,
};

/// A step of a transfer that an account decided, as the saga sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The source was debited: the transfer starts.
    Debited(Debit),
    /// The target was credited.
    Credited {
        transfer_id: TransferId,
        event_id: EventId,
    },
    /// The source got its money back.
    Refunded {
        transfer_id: TransferId,
        event_id: EventId,
    },
    /// An account refused a leg the saga issued.
    Rejected {
        transfer_id: TransferId,
        leg: Leg,
        rejection: Rejection,
    },
}

/// A `TransferDebited`: everything the saga needs to run the transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Debit {
    pub transfer_id: TransferId,
    pub from: AccountId,
    pub to: AccountId,
    pub amount: Amount,
    pub currency: Currency,
    pub event_id: EventId,
    pub occurred_at: DateTime<Utc>,
    pub correlation_id: CorrelationId,
}

/// What the saga keeps of the debit that started a transfer — while the
/// transfer runs and after it finished — to tell a repeat of that debit from
/// a different debit under the same transfer id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DebitSeen {
    pub from: AccountId,
    pub to: AccountId,
    pub amount: Amount,
    pub currency: Currency,
    /// The debit event's `occurred_at`: a saga's `started_at`, so it survives
    /// a restore and tells two debits of identical terms apart.
    pub occurred_at: DateTime<Utc>,
    /// The debit event's id, known to the instance that saw the debit. A
    /// saga restored from `transfer-state` has `None`: the snapshot does not
    /// carry it, and `occurred_at` identifies the debit in its place.
    pub event_id: Option<EventId>,
}

impl DebitSeen {
    /// The debit of the saga in `state`, with its event id if known.
    pub const fn of_saga(state: &TransferSagaSnapshot, event_id: Option<EventId>) -> Self {
        Self {
            from: state.from,
            to: state.to,
            amount: state.amount,
            currency: state.currency,
            occurred_at: state.started_at,
            event_id,
        }
    }

    /// Whether `debit` is this debit again (a replay of the same event).
    pub fn is(&self, debit: &Debit) -> bool {
        self.from == debit.from
            && self.to == debit.to
            && self.amount == debit.amount
            && self.currency == debit.currency
            && self.occurred_at == debit.occurred_at
            && self.event_id.is_none_or(|known| known == debit.event_id)
    }
}

/// A command the saga issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leg {
    Credit,
    Refund,
}

impl Leg {
    pub const fn step(self) -> TransferStep {
        match self {
            Self::Credit => TransferStep::Credit,
            Self::Refund => TransferStep::Refund,
        }
    }
}

impl Input {
    pub const fn transfer_id(&self) -> TransferId {
        match self {
            Self::Debited(Debit { transfer_id, .. })
            | Self::Credited { transfer_id, .. }
            | Self::Refunded { transfer_id, .. }
            | Self::Rejected { transfer_id, .. } => *transfer_id,
        }
    }

    /// The input an account event is, if it is a transfer leg.
    pub fn from_event(envelope: &AccountEventEnvelope) -> Option<Self> {
        match &envelope.event {
            AccountEvent::TransferDebited {
                transfer_id,
                to,
                amount,
                currency,
                ..
            } => Some(Self::Debited(Debit {
                transfer_id: *transfer_id,
                from: envelope.account_id(),
                to: *to,
                amount: *amount,
                currency: *currency,
                event_id: envelope.event_id,
                occurred_at: envelope.occurred_at,
                correlation_id: envelope.correlation_id,
            })),
            // The saga learns how its own legs went from their results (see
            // `from_result`), not from these events.
            AccountEvent::TransferCredited { .. }
            | AccountEvent::TransferRefunded { .. }
            | AccountEvent::AccountOpened { .. }
            | AccountEvent::MoneyDeposited { .. }
            | AccountEvent::MoneyWithdrawn { .. }
            | AccountEvent::AccountClosed {} => None,
        }
    }

    /// The input a command result is, if it answers a leg the saga issued
    /// (a debit's result is not: the API answered it, and a debit's event
    /// starts the saga).
    ///
    /// Legs are followed by their results, not their events, because all
    /// results of one command id share a partition of `command-results`: a
    /// leg's first answer (accepted, say) always reaches the saga before the
    /// answer to any retry of it (a duplicate, or `transfer_expired` once
    /// past its deadline). An event and a result travel on different
    /// partitions and could overtake each other.
    pub fn from_result(result: &CommandResult) -> Option<Self> {
        let transfer_id = result.transfer_id?;
        let leg = [Leg::Credit, Leg::Refund].into_iter().find(|leg| {
            result.command_id == CommandId::for_transfer_step(transfer_id, leg.step())
        })?;
        match &result.outcome {
            CommandOutcome::Accepted { events, .. } => {
                let event_id = *events.first()?;
                Some(match leg {
                    Leg::Credit => Self::Credited {
                        transfer_id,
                        event_id,
                    },
                    Leg::Refund => Self::Refunded {
                        transfer_id,
                        event_id,
                    },
                })
            }
            CommandOutcome::Rejected { rejection } => Some(Self::Rejected {
                transfer_id,
                leg,
                rejection: rejection.clone(),
            }),
        }
    }
}
