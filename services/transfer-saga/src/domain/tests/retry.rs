//! Retries on the clock: when a stuck leg is issued again, how the waits grow,
//! and that a finished saga is never retried.

use super::*;

#[test]
fn no_retry_before_retry_after() {
    assert_eq!(due_retry(&crediting(), at(10), &timing()), None);
}

#[test]
fn a_stuck_credit_is_issued_again_with_the_same_deadline() {
    let retry = due_retry(&crediting(), at(11), &timing()).expect("due");
    assert_eq!(retry.state.attempts, 2);
    assert_eq!(retry.state.step, SagaStep::Crediting);
    assert_eq!(
        retry.actions,
        vec![Action::Credit {
            deadline: at(300),
            causation: None
        }]
    );
}

#[test]
fn retries_back_off_linearly() {
    let second = due_retry(&crediting(), at(11), &timing())
        .expect("due")
        .state;
    assert_eq!(due_retry(&second, at(20), &timing()), None);
    assert!(due_retry(&second, at(21), &timing()).is_some());
}

#[test]
fn a_stuck_refund_is_issued_again_never_a_second_kind_of_refund() {
    let state = refunding(RejectionCode::CurrencyMismatch);
    let retry = due_retry(&state, at(12), &timing()).expect("due");
    assert_eq!(
        retry.actions,
        vec![Action::Refund {
            reason: TransferFailureReason::CurrencyMismatch,
            causation: None
        }]
    );
}

#[test]
fn finished_sagas_are_never_retried() {
    let completed = step(&crediting(), &credited(), at(3)).state;
    let failed = step(&refunding(RejectionCode::AccountClosed), &refunded(), at(4)).state;
    for state in [completed, failed] {
        assert_eq!(due_retry(&state, at(100_000), &timing()), None);
    }
}
