//! One command envelope per command variant.

use chrono::{DateTime, Utc};
use eventbank_events::{
    AccountCommand, AccountId, CommandEnvelope, CommandId, Currency, TransferFailureReason,
    TransferStep,
};

use super::{ANN, BOB, COMMAND, CORRELATION, DEBITED_EVENT, TRANSFER, amount, at, holder};

fn command_envelope(account_id: AccountId, command: AccountCommand) -> CommandEnvelope {
    CommandEnvelope::new(COMMAND, account_id, CORRELATION, at(15, 0), command)
}

/// The saga's credit of the transfer to Bob, with its `deadline`.
fn credit_for_transfer(deadline: Option<DateTime<Utc>>) -> AccountCommand {
    AccountCommand::CreditForTransfer {
        transfer_id: TRANSFER,
        from: ANN,
        amount: amount(12_345),
        currency: Currency::EUR,
        deadline,
    }
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
        saga_command(TransferStep::Credit, BOB, credit_for_transfer(None)),
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
        credit_for_transfer(Some(at(20, 0))),
    );
    envelopes
        .into_iter()
        .map(|envelope| (envelope.command.command_type(), envelope))
        .chain([("credit_for_transfer_with_deadline", with_deadline)])
        .collect()
}
