//! `decide` and `due_retry`: the saga's state machine.
//!
//! ```text
//!   TransferDebited ──▶ Crediting ──TransferCredited──▶ Completed
//!                          │
//!                  credit rejected (not found, closed, currency,
//!                  overflow, or expired: reason `timeout`)
//!                          ▼
//!                      Refunding ──TransferRefunded──▶ Failed{reason}
//! ```
//!
//! A finished saga is remembered for `Timing::finished_retention`, then
//! forgotten (its `transfer-state` key tombstoned); see `decide` for what a
//! late input of a forgotten transfer does.
//!
//! Every command the saga issues has an id derived from the transfer and the
//! leg, so issuing it again (a retry, a replay) is absorbed by the account's
//! command-id dedup. The saga never decides on its own that a credit did not
//! happen: the credit carries a deadline, the target's single writer refuses
//! it once the deadline has passed, and only that refusal leads to a refund —
//! so a refund can never follow a credit that was applied late.

use chrono::{DateTime, Utc};
use eventbank_events::{
    AccountId, Amount, Currency, EventId, Rejection, RejectionCode, SagaStep,
    TransferFailureReason, TransferSagaSnapshot, WireRecord,
};

use super::input::{Debit, DebitSeen, Input, Leg};
use super::timing::Timing;

/// The saga's new state and what it must emit, in order, in the same
/// transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub state: TransferSagaSnapshot,
    pub actions: Vec<Action>,
}

/// Something the saga emits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `CreditForTransfer` on the target, to be decided by `deadline`.
    Credit {
        deadline: DateTime<Utc>,
        causation: Option<EventId>,
    },
    /// `RefundTransfer` on the source.
    Refund {
        reason: TransferFailureReason,
        causation: Option<EventId>,
    },
    /// `TransferCompleted` on `transfer-events`.
    Complete { causation: EventId },
    /// `TransferFailed` on `transfer-events`.
    Fail {
        reason: TransferFailureReason,
        causation: EventId,
    },
}

/// An input that contradicts the saga's state: a bug somewhere or an
/// operator's intervention. The saga does not guess; the record is
/// dead-lettered with this reason and the transfer stays visible as pending.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Anomaly {
    #[error("no saga for this transfer: its debit was never seen")]
    NoSaga,
    #[error("the credit was rejected with {0}, which no failure reason maps")]
    UnmappedRejection(RejectionCode),
    #[error("the refund was rejected ({0}); the money stays in flight until an operator acts")]
    RefundRejected(Rejection),
    #[error("{input} while the saga is {step:?}")]
    OutOfOrder { input: &'static str, step: SagaStep },
    /// Another account event debited money under a transfer id the saga
    /// already runs (or ran) with a different debit. The saga carries on
    /// with the first; the second debit's money is in flight until an
    /// operator acts, so it must be seen, never absorbed as a repeat.
    #[error(
        "a second, different debit under this transfer id (event {event_id}: {amount} {currency} from {from}); \
         the transfer goes on with its first debit, and this one's money stays in flight until an operator acts"
    )]
    ConflictingDebit {
        event_id: EventId,
        from: AccountId,
        amount: Amount,
        currency: Currency,
    },
    /// A debit with no saga, older than the finished-transfer retention: a
    /// replay of a transfer that finished and was forgotten, or one the saga
    /// lagged behind for longer than the retention. Either way, starting it
    /// could pay a forgotten transfer again; an operator decides.
    #[error(
        "debit event {event_id} of {occurred_at} is older than saga.finished_retention_secs \
         and has no saga: a forgotten transfer is never started again"
    )]
    DebitPastRetention {
        event_id: EventId,
        occurred_at: DateTime<Utc>,
    },
}

/// Whether `debit`, for a transfer whose saga started with `seen` (running
/// or finished), is that same debit again — nothing to do — or a different
/// one under the same transfer id.
///
/// # Errors
///
/// [`Anomaly::ConflictingDebit`] when any of its terms differ.
pub fn check_debit(seen: &DebitSeen, debit: &Debit) -> Result<(), Anomaly> {
    if seen.is(debit) {
        return Ok(());
    }
    Err(Anomaly::ConflictingDebit {
        event_id: debit.event_id,
        from: debit.from,
        amount: debit.amount,
        currency: debit.currency,
    })
}

/// What `input` does to the saga in `state` (`None`: no pending saga for the
/// transfer) at `now`. `Ok(None)`: nothing (a repeat the saga already acted on).
///
/// # Errors
///
/// An [`Anomaly`] when the input contradicts the state.
pub fn decide(
    state: Option<&TransferSagaSnapshot>,
    input: &Input,
    now: DateTime<Utc>,
    timing: &Timing,
) -> Result<Option<Transition>, Anomaly> {
    if let Input::Rejected { rejection, .. } = input
        && rejection.code == RejectionCode::DuplicateTransfer
    {
        // The answer to a retry of a leg the account had already applied;
        // that first answer reached the saga before this one.
        return Ok(None);
    }
    // No saga: the transfer is new, or it finished longer ago than the
    // retention and was forgotten (its state tombstoned). Nothing here may
    // restart a forgotten transfer: its legs' command ids would be new to
    // accounts whose memory of them has expired too, so a second credit or
    // refund would be paid. Hence:
    // - a debit older than the retention is never started: a forgotten
    //   transfer's debit always is (it is forgotten only once it finished
    //   more than the retention ago, and it finished after its debit);
    // - any other leg without a saga is `NoSaga`, dead-lettered as before:
    //   a late answer (a credit or refund accepted, a credit refused) of a
    //   forgotten transfer pays nothing and changes nothing, and an operator
    //   sees it — there is nothing the saga could rightly do with it. A
    //   duplicate answer was already ignored above.
    let Some(state) = state else {
        return match input {
            Input::Debited(debit) if timing.is_past_retention(debit.occurred_at, now) => {
                Err(Anomaly::DebitPastRetention {
                    event_id: debit.event_id,
                    occurred_at: debit.occurred_at,
                })
            }
            Input::Debited(debit) => Ok(Some(start(debit, now, timing))),
            Input::Credited { .. } | Input::Refunded { .. } | Input::Rejected { .. } => {
                Err(Anomaly::NoSaga)
            }
        };
    };
    let crediting = matches!(state.step, SagaStep::Debited | SagaStep::Crediting);
    match input {
        // The debit that started this saga again, or a different one. Only
        // the state is known here, not the debit's event id: the processor
        // checks with what it remembers (see `check_debit`) before it asks.
        Input::Debited(debit) => {
            check_debit(&DebitSeen::of_saga(state, None), debit).map(|()| None)
        }
        Input::Credited { event_id, .. } if crediting => Ok(Some(Transition {
            state: progressed(state, SagaStep::Completed, now),
            actions: vec![Action::Complete {
                causation: *event_id,
            }],
        })),
        Input::Refunded { event_id, .. } if state.step == SagaStep::Refunding => {
            let reason = state.failure_reason.ok_or(Anomaly::OutOfOrder {
                input: "a refund without a failure reason",
                step: state.step,
            })?;
            Ok(Some(Transition {
                state: progressed(state, SagaStep::Failed, now),
                actions: vec![Action::Fail {
                    reason,
                    causation: *event_id,
                }],
            }))
        }
        Input::Rejected {
            leg: Leg::Credit,
            rejection,
            ..
        } if crediting => {
            let reason = TransferFailureReason::for_rejected_credit(rejection.code)
                .ok_or(Anomaly::UnmappedRejection(rejection.code))?;
            let mut next = progressed(state, SagaStep::Refunding, now);
            next.failure_reason = Some(reason);
            Ok(Some(Transition {
                state: next,
                actions: vec![Action::Refund {
                    reason,
                    causation: None,
                }],
            }))
        }
        // The answer to a retried credit that was already rejected.
        Input::Rejected {
            leg: Leg::Credit, ..
        } if state.step == SagaStep::Refunding => Ok(None),
        Input::Rejected {
            leg: Leg::Refund,
            rejection,
            ..
        } => Err(Anomaly::RefundRejected(rejection.clone())),
        Input::Credited { .. } => Err(Anomaly::OutOfOrder {
            input: "TransferCredited",
            step: state.step,
        }),
        Input::Refunded { .. } => Err(Anomaly::OutOfOrder {
            input: "TransferRefunded",
            step: state.step,
        }),
        Input::Rejected { .. } => Err(Anomaly::OutOfOrder {
            input: "a rejected credit",
            step: state.step,
        }),
    }
}

/// The retry `state` is due for at `now`, if any: the pending leg's command
/// again, with the same id (and, for a credit, the same deadline).
pub fn due_retry(
    state: &TransferSagaSnapshot,
    now: DateTime<Utc>,
    timing: &Timing,
) -> Option<Transition> {
    if now < timing.next_retry(state.last_progress_at, state.attempts) {
        return None;
    }
    let action = match state.step {
        SagaStep::Debited | SagaStep::Crediting => Action::Credit {
            deadline: timing.credit_deadline_for(state.started_at),
            causation: None,
        },
        SagaStep::Refunding => Action::Refund {
            reason: state.failure_reason?,
            causation: None,
        },
        SagaStep::Credited | SagaStep::Completed | SagaStep::Failed => return None,
    };
    let mut next = state.clone();
    next.attempts = next.attempts.saturating_add(1);
    Some(Transition {
        state: next,
        actions: vec![action],
    })
}

fn start(debit: &Debit, now: DateTime<Utc>, timing: &Timing) -> Transition {
    let Debit {
        transfer_id,
        from,
        to,
        amount,
        currency,
        event_id,
        occurred_at,
        correlation_id,
    } = *debit;
    Transition {
        state: TransferSagaSnapshot {
            schema_version: TransferSagaSnapshot::CURRENT_VERSION,
            transfer_id,
            from,
            to,
            amount,
            currency,
            correlation_id,
            step: SagaStep::Crediting,
            failure_reason: None,
            attempts: 1,
            // The debit's time, not the saga's: the credit's deadline must
            // not move when the saga replays or restarts.
            started_at: occurred_at,
            last_progress_at: now,
        },
        actions: vec![Action::Credit {
            deadline: timing.credit_deadline_for(occurred_at),
            causation: Some(event_id),
        }],
    }
}

fn progressed(
    state: &TransferSagaSnapshot,
    step: SagaStep,
    now: DateTime<Utc>,
) -> TransferSagaSnapshot {
    TransferSagaSnapshot {
        step,
        attempts: 1,
        last_progress_at: now,
        ..state.clone()
    }
}
