//! The credit leg: it completes the transfer, and each rejection starts the
//! refund with its reason (or is an anomaly when no reason maps).

use super::*;

#[test]
fn a_credit_completes_the_transfer() {
    let transition = step(&crediting(), &credited(), at(3));
    assert_eq!(transition.state.step, SagaStep::Completed);
    assert_eq!(
        transition.actions,
        vec![Action::Complete {
            causation: OTHER_EVENT
        }]
    );
}

#[test]
fn each_rejected_credit_refunds_with_its_reason() {
    for (code, reason) in [
        (
            RejectionCode::AccountNotFound,
            TransferFailureReason::AccountNotFound,
        ),
        (
            RejectionCode::AccountClosed,
            TransferFailureReason::AccountClosed,
        ),
        (
            RejectionCode::CurrencyMismatch,
            TransferFailureReason::CurrencyMismatch,
        ),
        (
            RejectionCode::BalanceOverflow,
            TransferFailureReason::BalanceOverflow,
        ),
        (
            RejectionCode::TransferExpired,
            TransferFailureReason::Timeout,
        ),
    ] {
        let transition = step(&crediting(), &rejected(Leg::Credit, code), at(2));
        assert_eq!(transition.state.step, SagaStep::Refunding, "{code}");
        assert_eq!(transition.state.failure_reason, Some(reason));
        assert_eq!(
            transition.actions,
            vec![Action::Refund {
                reason,
                causation: None
            }]
        );
    }
}

#[test]
fn a_credit_rejection_no_reason_maps_is_an_anomaly() {
    assert_eq!(
        decide(
            Some(&crediting()),
            &rejected(Leg::Credit, RejectionCode::InsufficientFunds),
            at(2),
            &timing()
        ),
        Err(Anomaly::UnmappedRejection(RejectionCode::InsufficientFunds))
    );
}
