//! Given a saga state, when an input (or the clock) arrives, then this state
//! and these actions — every rule of the state machine, without Kafka.
//!
//! The fixtures (a transfer, its legs' answers, the clock) are here; the
//! rules are tested by topic, one file each.

mod credit;
mod debit;
mod inputs;
mod refund;
mod retention;
mod retry;

use chrono::{DateTime, Utc};
use eventbank_events::{
    AccountId, Amount, CommandId, CommandOutcome, CommandResult, CorrelationId, Currency, EventId,
    Rejection, RejectionCode, SagaStep, TransferFailureReason, TransferId, TransferSagaSnapshot,
    TransferStep,
};
use uuid::Uuid;

use super::test_clock::{at, timing_secs};
use super::*;

const TRANSFER: TransferId = TransferId::from_uuid(Uuid::from_u128(0x7F));
const FROM: AccountId = AccountId::from_uuid(Uuid::from_u128(0xA));
const TO: AccountId = AccountId::from_uuid(Uuid::from_u128(0xB));
const DEBIT_EVENT: EventId = EventId::from_uuid(Uuid::from_u128(0xE1));
const OTHER_EVENT: EventId = EventId::from_uuid(Uuid::from_u128(0xE2));

fn timing() -> Timing {
    timing_secs(10, 300, RETENTION)
}

/// Seconds a finished saga is remembered in these tests.
const RETENTION: i64 = 3_600;

fn debited() -> Input {
    Input::Debited(Debit {
        transfer_id: TRANSFER,
        from: FROM,
        to: TO,
        amount: Amount::new(250).expect("positive"),
        currency: Currency::EUR,
        event_id: DEBIT_EVENT,
        occurred_at: at(0),
        correlation_id: CorrelationId::from_uuid(Uuid::from_u128(0xC0)),
    })
}

fn credited() -> Input {
    Input::Credited {
        transfer_id: TRANSFER,
        event_id: OTHER_EVENT,
    }
}

fn refunded() -> Input {
    Input::Refunded {
        transfer_id: TRANSFER,
        event_id: OTHER_EVENT,
    }
}

fn rejected(leg: Leg, code: RejectionCode) -> Input {
    Input::Rejected {
        transfer_id: TRANSFER,
        leg,
        rejection: Rejection::new(code, "refused"),
    }
}

/// The saga after its debit, decided at `at(1)`.
fn crediting() -> TransferSagaSnapshot {
    decide(None, &debited(), at(1), &timing())
        .expect("a debit starts a saga")
        .expect("a transition")
        .state
}

fn refunding(reason_code: RejectionCode) -> TransferSagaSnapshot {
    step(&crediting(), &rejected(Leg::Credit, reason_code), at(2)).state
}

fn step(state: &TransferSagaSnapshot, input: &Input, now: DateTime<Utc>) -> Transition {
    decide(Some(state), input, now, &timing())
        .expect("no anomaly")
        .expect("a transition")
}
