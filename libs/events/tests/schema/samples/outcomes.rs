//! Command outcomes: as results on `command-results` and as remembered by
//! the processor.

use eventbank_events::{
    CommandId, CommandOutcome, CommandResult, Fingerprint, Money, RejectionCode, RememberedOutcome,
    TransferStep,
};

use super::{ANN, BOB, COMMAND, CORRELATION, EVENT, TRANSFER, at};

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
