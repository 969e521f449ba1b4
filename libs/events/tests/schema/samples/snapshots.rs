//! Account and saga snapshots, as the processors write them to their state
//! topics.

use eventbank_events::{
    AccountSnapshot, AccountStatus, CommandId, Currency, Money, RememberedCommand, SagaStep,
    SettledLeg, SettledStep, TransferFailureReason, TransferId, TransferSagaSnapshot,
};
use uuid::uuid;

use super::outcomes::{accepted, rejected};
use super::{ANN, BOB, COMMAND, CORRELATION, TRANSFER, amount, at, holder};

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
