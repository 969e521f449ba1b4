//! Fixed sample values (one per variant) and the serde probe that lists an
//! enum's variants.

use std::fmt;

use chrono::{DateTime, TimeZone, Utc};
use eventbank_events::{
    AccountCommand, AccountEvent, AccountEventEnvelope, AccountId, AccountSnapshot, AccountStatus,
    Amount, CommandEnvelope, CommandId, CommandOutcome, CommandResult, CorrelationId, Currency,
    EventEnvelope, EventId, Fingerprint, Holder, Money, RejectionCode, RememberedCommand,
    RememberedOutcome, SagaStep, SettledLeg, SettledStep, StreamId, TransferEvent,
    TransferEventEnvelope, TransferFailureReason, TransferId, TransferSagaSnapshot, TransferStep,
};
use serde::de::value::{MapDeserializer, StrDeserializer};
use serde::de::{self, DeserializeOwned};
use uuid::uuid;

pub const ANN: AccountId = AccountId::from_uuid(uuid!("5f0c6f1e-8a8b-4d2a-9d55-3c1f2b7e4a10"));
pub const BOB: AccountId = AccountId::from_uuid(uuid!("c2a9e4b7-1d3f-4e8a-b6c5-7f2e9d1a0b34"));
pub const TRANSFER: TransferId =
    TransferId::from_uuid(uuid!("9b1d7e2c-4f6a-4c8b-a3d5-e7f9012b3c4d"));
pub const COMMAND: CommandId = CommandId::from_uuid(uuid!("3e8f1a2b-5c6d-4e7f-8a9b-0c1d2e3f4a5b"));
pub const CORRELATION: CorrelationId =
    CorrelationId::from_uuid(uuid!("7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d"));
/// The `TransferDebited` event that starts the saga.
pub const DEBITED_EVENT: EventId =
    EventId::from_uuid(uuid!("01935b2e-6a00-7c3b-9c2d-1e0f2a3b4c5d"));
pub const EVENT: EventId = EventId::from_uuid(uuid!("01935b2e-6f18-7d4c-8d3e-2f1a3b4c5d6e"));
pub const EVENT_2: EventId = EventId::from_uuid(uuid!("01935b2e-6f18-7e5d-9e4f-3a2b4c5d6e7f"));

pub fn at(minute: u32, millis: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 11, 23, 9, minute, 0)
        .single()
        .expect("valid date")
        + chrono::Duration::milliseconds(i64::from(millis))
}

pub fn amount(minor_units: i64) -> Amount {
    Amount::new(minor_units).expect("positive")
}

pub fn holder() -> Holder {
    Holder::parse("Ann Lee").expect("valid holder")
}

fn command_envelope(account_id: AccountId, command: AccountCommand) -> CommandEnvelope {
    CommandEnvelope::new(COMMAND, account_id, CORRELATION, at(15, 0), command)
}

/// One envelope per [`AccountCommand`] variant, named by its `type` tag.
pub fn commands() -> Vec<(&'static str, CommandEnvelope)> {
    let saga_command = |step, account_id, command| {
        CommandEnvelope {
            command_id: CommandId::for_transfer_step(TRANSFER, step),
            ..command_envelope(account_id, command)
        }
        .caused_by(DEBITED_EVENT)
    };
    let envelopes = vec![
        command_envelope(
            ANN,
            AccountCommand::OpenAccount {
                holder: holder(),
                currency: Currency::EUR,
            },
        ),
        command_envelope(
            ANN,
            AccountCommand::Deposit {
                amount: amount(50_000),
            },
        ),
        command_envelope(
            ANN,
            AccountCommand::Withdraw {
                amount: amount(2_000),
            },
        ),
        command_envelope(ANN, AccountCommand::CloseAccount {}),
        command_envelope(
            ANN,
            AccountCommand::DebitForTransfer {
                transfer_id: TRANSFER,
                to: BOB,
                amount: amount(12_345),
            },
        ),
        saga_command(
            TransferStep::Credit,
            BOB,
            AccountCommand::CreditForTransfer {
                transfer_id: TRANSFER,
                from: ANN,
                amount: amount(12_345),
                currency: Currency::EUR,
                deadline: None,
            },
        ),
        saga_command(
            TransferStep::Refund,
            ANN,
            AccountCommand::RefundTransfer {
                transfer_id: TRANSFER,
                amount: amount(12_345),
                reason: TransferFailureReason::CurrencyMismatch,
            },
        ),
    ];
    let with_deadline = saga_command(
        TransferStep::Credit,
        BOB,
        AccountCommand::CreditForTransfer {
            transfer_id: TRANSFER,
            from: ANN,
            amount: amount(12_345),
            currency: Currency::EUR,
            deadline: Some(at(20, 0)),
        },
    );
    envelopes
        .into_iter()
        .map(|envelope| (envelope.command.command_type(), envelope))
        .chain([("credit_for_transfer_with_deadline", with_deadline)])
        .collect()
}

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
                    deadline: None,
                },
            )
        },
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
    let credited_by_deadline = EventEnvelope {
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
                deadline: Some(at(20, 0)),
            },
        )
    };
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

pub fn accepted() -> CommandOutcome {
    CommandOutcome::Accepted {
        version: 2,
        balance: Money::new(50_000),
        events: vec![EVENT],
    }
}

pub fn rejected() -> CommandOutcome {
    CommandOutcome::rejected(
        RejectionCode::InsufficientFunds,
        "balance 48000 is less than the 90000 requested",
    )
}

/// One result per [`CommandOutcome`] variant, named by its `status` tag, and
/// a rejected transfer leg (which carries its transfer id).
pub fn command_results() -> Vec<(&'static str, CommandResult)> {
    let with_fingerprint = CommandResult::new(COMMAND, ANN, CORRELATION, at(15, 250), accepted())
        .with_fingerprint(Some(fingerprint()));
    let expired_credit = CommandResult::new(
        CommandId::for_transfer_step(TRANSFER, TransferStep::Credit),
        BOB,
        CORRELATION,
        at(20, 5),
        CommandOutcome::rejected(
            RejectionCode::TransferExpired,
            "the credit's deadline passed before it was decided",
        ),
    )
    .for_transfer(Some(TRANSFER));
    [accepted(), rejected()]
        .into_iter()
        .map(|outcome| {
            (
                outcome.status(),
                CommandResult::new(COMMAND, ANN, CORRELATION, at(15, 250), outcome),
            )
        })
        .chain([
            ("rejected_with_transfer_id", expired_credit),
            ("accepted_with_fingerprint", with_fingerprint),
        ])
        .collect()
}

pub fn fingerprint() -> Fingerprint {
    Fingerprint::from_hex("9f2c6a1e4b7d8c3f0a5e6b1d2c7f8a9e0b3d4c5f6a7e8b9c0d1e2f3a4b5c6d7e")
}

/// A remembered outcome per [`CommandOutcome`] variant, and one carried over
/// from a snapshot written before fingerprints (no fingerprint).
pub fn remembered_outcomes() -> Vec<(&'static str, RememberedOutcome)> {
    let remembered =
        |outcome: CommandOutcome, fingerprint: Option<Fingerprint>| RememberedOutcome {
            schema_version: 1,
            command_id: COMMAND,
            account_id: ANN,
            fingerprint,
            outcome,
            decided_at: at(15, 250),
            expires_at: at(45, 250),
        };
    vec![
        ("accepted", remembered(accepted(), Some(fingerprint()))),
        ("rejected", remembered(rejected(), Some(fingerprint()))),
        ("accepted_without_fingerprint", remembered(accepted(), None)),
    ]
}

pub fn account_snapshots() -> Vec<(&'static str, AccountSnapshot)> {
    let open = open_snapshot();
    let with_legs = AccountSnapshot {
        settled_legs: vec![
            SettledLeg {
                transfer_id: TRANSFER,
                step: SettledStep::Credit,
                until: at(20, 0),
            },
            SettledLeg {
                transfer_id: TransferId::from_uuid(uuid!("0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f")),
                step: SettledStep::Refund,
                until: at(21, 0),
            },
        ],
        ..open.clone()
    };
    vec![("open", open), ("open_with_settled_legs", with_legs)]
}

fn open_snapshot() -> AccountSnapshot {
    {
        AccountSnapshot {
            schema_version: 1,
            account_id: ANN,
            version: 3,
            holder: holder(),
            currency: Currency::EUR,
            balance: Money::new(48_000),
            status: AccountStatus::Open,
            opened_at: at(1, 0),
            updated_at: at(15, 42),
            recent_commands: vec![
                RememberedCommand {
                    command_id: COMMAND,
                    result: accepted(),
                },
                RememberedCommand {
                    command_id: CommandId::from_uuid(uuid!("d4c3b2a1-0f9e-4d8c-b7a6-958473625140")),
                    result: rejected(),
                },
            ],
            settled_legs: Vec::new(),
        }
    }
}

pub fn saga_snapshots() -> Vec<(&'static str, TransferSagaSnapshot)> {
    let crediting = TransferSagaSnapshot {
        schema_version: 1,
        transfer_id: TRANSFER,
        from: ANN,
        to: BOB,
        amount: amount(12_345),
        currency: Currency::EUR,
        correlation_id: CORRELATION,
        step: SagaStep::Crediting,
        failure_reason: None,
        attempts: 1,
        started_at: at(15, 42),
        last_progress_at: at(15, 43),
    };
    let refunding = TransferSagaSnapshot {
        step: SagaStep::Refunding,
        failure_reason: Some(TransferFailureReason::CurrencyMismatch),
        last_progress_at: at(16, 0),
        ..crediting.clone()
    };
    vec![("crediting", crediting), ("refunding", refunding)]
}

/// The tags serde derives for `T`'s variants — the real list, straight from
/// the enum definition, so a variant added without a sample or fixture is
/// noticed. `tag` is the field of an internally tagged enum, or `None` for an
/// enum serialized as a plain string.
///
/// It asks serde to decode an impossible tag and captures the `expected` list
/// serde passes to [`de::Error::unknown_variant`].
pub fn serde_variants<T: DeserializeOwned>(tag: Option<&'static str>) -> &'static [&'static str] {
    const IMPOSSIBLE: &str = "\u{0}no such variant";
    let result = match tag {
        Some(tag) => T::deserialize(MapDeserializer::<_, Probe>::new(
            [(tag, IMPOSSIBLE)].into_iter(),
        )),
        None => T::deserialize(StrDeserializer::<Probe>::new(IMPOSSIBLE)),
    };
    match result {
        Err(Probe(Some(variants))) => variants,
        Err(Probe(None)) => panic!("serde did not report the unknown variant"),
        Ok(_) => panic!("an impossible tag decoded"),
    }
}

#[derive(Debug)]
struct Probe(Option<&'static [&'static str]>);

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl std::error::Error for Probe {}

impl de::Error for Probe {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Probe(None)
    }

    fn unknown_variant(_: &str, expected: &'static [&'static str]) -> Self {
        Probe(Some(expected))
    }
}
