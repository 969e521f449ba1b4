//! One event envelope per account and transfer event variant.

use chrono::{DateTime, Utc};
use eventbank_events::{
    AccountEvent, AccountEventEnvelope, CommandId, Currency, EventEnvelope, Money, StreamId,
    TransferEvent, TransferEventEnvelope, TransferFailureReason, TransferStep,
};

use super::{
    ANN, BOB, COMMAND, CORRELATION, DEBITED_EVENT, EVENT, EVENT_2, TRANSFER, amount, at, holder,
};

fn account_event(sequence: u64, event: AccountEvent) -> AccountEventEnvelope {
    EventEnvelope {
        schema_version: 1,
        event_id: EVENT,
        stream_id: ANN.into(),
        sequence,
        occurred_at: at(15, 42),
        command_id: COMMAND,
        causation_id: None,
        correlation_id: CORRELATION,
        event,
    }
}

/// Bob's side of the transfer: its credit, caused by Ann's debit, with the
/// credit's `deadline`.
fn transfer_credited(deadline: Option<DateTime<Utc>>) -> AccountEventEnvelope {
    EventEnvelope {
        stream_id: BOB.into(),
        command_id: CommandId::for_transfer_step(TRANSFER, TransferStep::Credit),
        causation_id: Some(DEBITED_EVENT),
        ..account_event(
            7,
            AccountEvent::TransferCredited {
                transfer_id: TRANSFER,
                from: ANN,
                amount: amount(12_345),
                balance_after: Money::new(12_345),
                deadline,
            },
        )
    }
}

/// One envelope per [`AccountEvent`] variant, named by its `type` tag.
pub fn account_events() -> Vec<(&'static str, AccountEventEnvelope)> {
    let envelopes = vec![
        account_event(
            1,
            AccountEvent::AccountOpened {
                holder: holder(),
                currency: Currency::EUR,
            },
        ),
        account_event(
            2,
            AccountEvent::MoneyDeposited {
                amount: amount(50_000),
                balance_after: Money::new(50_000),
            },
        ),
        account_event(
            3,
            AccountEvent::MoneyWithdrawn {
                amount: amount(2_000),
                balance_after: Money::new(48_000),
            },
        ),
        account_event(9, AccountEvent::AccountClosed {}),
        account_event(
            4,
            AccountEvent::TransferDebited {
                transfer_id: TRANSFER,
                to: BOB,
                amount: amount(12_345),
                currency: Currency::EUR,
                balance_after: Money::new(35_655),
            },
        ),
        transfer_credited(None),
        EventEnvelope {
            command_id: CommandId::for_transfer_step(TRANSFER, TransferStep::Refund),
            causation_id: Some(DEBITED_EVENT),
            ..account_event(
                5,
                AccountEvent::TransferRefunded {
                    transfer_id: TRANSFER,
                    amount: amount(12_345),
                    reason: TransferFailureReason::CurrencyMismatch,
                    balance_after: Money::new(48_000),
                },
            )
        },
    ];
    let credited_by_deadline = transfer_credited(Some(at(20, 0)));
    envelopes
        .into_iter()
        .map(|envelope| {
            (
                eventbank_events::DomainEvent::event_type(&envelope.event),
                envelope,
            )
        })
        .chain([("transfer_credited_with_deadline", credited_by_deadline)])
        .collect()
}

/// One envelope per [`TransferEvent`] variant, named by its `type` tag.
pub fn transfer_events() -> Vec<(&'static str, TransferEventEnvelope)> {
    let envelope = |step, event| EventEnvelope {
        schema_version: 1,
        event_id: EVENT_2,
        stream_id: StreamId::from(TRANSFER),
        sequence: 1,
        occurred_at: at(16, 5),
        command_id: CommandId::for_transfer_step(TRANSFER, step),
        causation_id: Some(EVENT),
        correlation_id: CORRELATION,
        event,
    };
    vec![
        (
            "transfer_completed",
            envelope(
                TransferStep::Credit,
                TransferEvent::TransferCompleted {
                    from: ANN,
                    to: BOB,
                    amount: amount(12_345),
                    currency: Currency::EUR,
                },
            ),
        ),
        (
            "transfer_failed",
            envelope(
                TransferStep::Refund,
                TransferEvent::TransferFailed {
                    from: ANN,
                    to: BOB,
                    amount: amount(12_345),
                    currency: Currency::EUR,
                    reason: TransferFailureReason::CurrencyMismatch,
                },
            ),
        ),
    ]
}
