//! The refund leg: it fails the transfer with its reason; a leg out of turn is
//! an anomaly or ignored, never a second outcome.

use super::*;

#[test]
fn the_refund_fails_the_transfer_with_the_reason() {
    let transition = step(&refunding(RejectionCode::AccountClosed), &refunded(), at(4));
    assert_eq!(transition.state.step, SagaStep::Failed);
    assert_eq!(
        transition.actions,
        vec![Action::Fail {
            reason: TransferFailureReason::AccountClosed,
            causation: OTHER_EVENT
        }]
    );
}

#[test]
fn a_repeated_credit_rejection_while_refunding_is_ignored() {
    let state = refunding(RejectionCode::AccountNotFound);
    let again = rejected(Leg::Credit, RejectionCode::AccountNotFound);
    assert_eq!(decide(Some(&state), &again, at(9), &timing()), Ok(None));
}

#[test]
fn a_credit_after_the_refund_began_is_an_anomaly_not_a_completion() {
    let state = refunding(RejectionCode::TransferExpired);
    assert!(matches!(
        decide(Some(&state), &credited(), at(9), &timing()),
        Err(Anomaly::OutOfOrder { .. })
    ));
}

#[test]
fn a_refund_without_a_rejected_credit_is_an_anomaly() {
    assert!(matches!(
        decide(Some(&crediting()), &refunded(), at(9), &timing()),
        Err(Anomaly::OutOfOrder { .. })
    ));
}

#[test]
fn a_rejected_refund_is_an_anomaly() {
    let state = refunding(RejectionCode::AccountNotFound);
    assert!(matches!(
        decide(
            Some(&state),
            &rejected(Leg::Refund, RejectionCode::BalanceOverflow),
            at(9),
            &timing()
        ),
        Err(Anomaly::RefundRejected(_))
    ));
}

#[test]
fn legs_of_an_unknown_transfer_are_anomalies() {
    for input in [
        credited(),
        refunded(),
        rejected(Leg::Credit, RejectionCode::AccountClosed),
    ] {
        assert_eq!(decide(None, &input, at(1), &timing()), Err(Anomaly::NoSaga));
    }
}
