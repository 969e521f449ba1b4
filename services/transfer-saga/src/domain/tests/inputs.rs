//! Which records are inputs of the saga at all, and that a repeated answer to
//! a leg is ignored in every state.

use super::*;

#[test]
fn results_of_credit_and_refund_legs_are_inputs_debits_are_not() {
    let result = |step, outcome| {
        CommandResult::new(
            CommandId::for_transfer_step(TRANSFER, step),
            TO,
            CorrelationId::from_uuid(Uuid::from_u128(0xC0)),
            at(2),
            outcome,
        )
        .for_transfer(Some(TRANSFER))
    };
    let refused = CommandOutcome::rejected(RejectionCode::AccountClosed, "closed");
    let accepted = CommandOutcome::Accepted {
        version: 2,
        balance: eventbank_events::Money::new(1),
        events: vec![OTHER_EVENT],
    };
    assert!(matches!(
        Input::from_result(&result(TransferStep::Credit, refused.clone())),
        Some(Input::Rejected {
            leg: Leg::Credit,
            ..
        })
    ));
    assert!(matches!(
        Input::from_result(&result(TransferStep::Refund, refused.clone())),
        Some(Input::Rejected {
            leg: Leg::Refund,
            ..
        })
    ));
    assert_eq!(
        Input::from_result(&result(TransferStep::Credit, accepted.clone())),
        Some(credited())
    );
    assert_eq!(
        Input::from_result(&result(TransferStep::Refund, accepted.clone())),
        Some(refunded())
    );
    assert_eq!(
        Input::from_result(&result(TransferStep::Debit, refused.clone())),
        None
    );
    assert_eq!(
        Input::from_result(&result(TransferStep::Debit, accepted)),
        None
    );
    let untagged = CommandResult {
        transfer_id: None,
        ..result(TransferStep::Credit, refused)
    };
    assert_eq!(Input::from_result(&untagged), None);
}

#[test]
fn a_duplicate_leg_answer_is_ignored_in_every_state() {
    let duplicate = rejected(Leg::Credit, RejectionCode::DuplicateTransfer);
    let completed = step(&crediting(), &credited(), at(3)).state;
    for state in [None, Some(crediting()), Some(completed)] {
        assert_eq!(
            decide(state.as_ref(), &duplicate, at(9), &timing()),
            Ok(None)
        );
    }
    let refund_again = rejected(Leg::Refund, RejectionCode::DuplicateTransfer);
    let state = refunding(RejectionCode::AccountClosed);
    assert_eq!(
        decide(Some(&state), &refund_again, at(9), &timing()),
        Ok(None)
    );
}
