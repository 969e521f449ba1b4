//! Given a saga state, when an input (or the clock) arrives, then this state
//! and these actions — every rule of the state machine, without Kafka.

use chrono::{DateTime, TimeDelta, Utc};
use eventbank_events::{
    AccountId, Amount, CommandId, CommandOutcome, CommandResult, CorrelationId, Currency, EventId,
    Rejection, RejectionCode, SagaStep, TransferFailureReason, TransferId, TransferSagaSnapshot,
    TransferStep,
};
use uuid::Uuid;

use super::*;

const TRANSFER: TransferId = TransferId::from_uuid(Uuid::from_u128(0x7F));
const FROM: AccountId = AccountId::from_uuid(Uuid::from_u128(0xA));
const TO: AccountId = AccountId::from_uuid(Uuid::from_u128(0xB));
const DEBIT_EVENT: EventId = EventId::from_uuid(Uuid::from_u128(0xE1));
const OTHER_EVENT: EventId = EventId::from_uuid(Uuid::from_u128(0xE2));

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + seconds, 0).expect("in range")
}

fn timing() -> Timing {
    Timing {
        retry_after: TimeDelta::seconds(10),
        credit_deadline: TimeDelta::seconds(300),
        finished_retention: TimeDelta::seconds(RETENTION),
    }
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

#[test]
fn a_debit_starts_the_saga_and_issues_the_credit_with_a_deadline_from_the_debit() {
    let transition = decide(None, &debited(), at(1), &timing()).unwrap().unwrap();
    assert_eq!(transition.state.step, SagaStep::Crediting);
    assert_eq!(transition.state.started_at, at(0));
    assert_eq!(transition.state.attempts, 1);
    assert_eq!(
        transition.actions,
        vec![Action::Credit {
            deadline: at(300),
            causation: Some(DEBIT_EVENT),
        }]
    );
}

#[test]
fn the_same_debit_again_changes_nothing() {
    assert_eq!(
        decide(Some(&crediting()), &debited(), at(5), &timing()),
        Ok(None)
    );
}

/// The saga's debit with `change` applied: another debit under its id.
fn other_debit(change: impl FnOnce(&mut Debit)) -> Debit {
    let Input::Debited(mut debit) = debited() else {
        unreachable!("debited() is a debit")
    };
    change(&mut debit);
    debit
}

fn seen(event_id: Option<EventId>) -> DebitSeen {
    DebitSeen::of_saga(&crediting(), event_id)
}

const THIRD_ACCOUNT: AccountId = AccountId::from_uuid(Uuid::from_u128(0xC));

/// Every way another debit can differ from the saga's own: source, target,
/// amount, currency, and (with identical terms) the event itself.
fn conflicting_debits() -> Vec<(&'static str, Debit)> {
    vec![
        ("another source", other_debit(|d| d.from = THIRD_ACCOUNT)),
        ("another target", other_debit(|d| d.to = THIRD_ACCOUNT)),
        (
            "another amount",
            other_debit(|d| d.amount = Amount::new(251).expect("positive")),
        ),
        (
            "another currency",
            other_debit(|d| d.currency = Currency::USD),
        ),
        (
            "a later debit of the same terms",
            other_debit(|d| {
                d.event_id = OTHER_EVENT;
                d.occurred_at = at(60);
            }),
        ),
    ]
}

#[test]
fn a_different_debit_under_a_pending_transfer_s_id_is_an_anomaly() {
    for (what, debit) in conflicting_debits() {
        assert_eq!(
            decide(Some(&crediting()), &Input::Debited(debit), at(5), &timing()),
            Err(Anomaly::ConflictingDebit {
                event_id: debit.event_id,
                from: debit.from,
                amount: debit.amount,
                currency: debit.currency,
            }),
            "{what}"
        );
    }
}

#[test]
fn a_different_debit_under_a_finished_transfer_s_id_is_an_anomaly() {
    let completed = step(&crediting(), &credited(), at(3)).state;
    let failed = step(&refunding(RejectionCode::AccountClosed), &refunded(), at(4)).state;
    for state in [completed, failed] {
        for event_id in [None, Some(DEBIT_EVENT)] {
            let known = DebitSeen::of_saga(&state, event_id);
            for (what, debit) in conflicting_debits() {
                assert!(
                    matches!(
                        check_debit(&known, &debit),
                        Err(Anomaly::ConflictingDebit { .. })
                    ),
                    "{what} after {:?}, event id known: {}",
                    state.step,
                    event_id.is_some()
                );
            }
            let Input::Debited(same) = debited() else {
                unreachable!()
            };
            assert_eq!(check_debit(&known, &same), Ok(()), "{:?}", state.step);
        }
    }
}

#[test]
fn a_debit_event_of_the_same_terms_and_time_but_another_id_conflicts_once_the_id_is_known() {
    let same_time_other_event = other_debit(|d| d.event_id = OTHER_EVENT);
    assert!(matches!(
        check_debit(&seen(Some(DEBIT_EVENT)), &same_time_other_event),
        Err(Anomaly::ConflictingDebit { event_id, .. }) if event_id == OTHER_EVENT
    ));
    // Restored from a snapshot, which does not carry the event id, the
    // saga can only compare the terms and the debit's time.
    assert_eq!(check_debit(&seen(None), &same_time_other_event), Ok(()));
}

#[test]
fn the_same_debit_again_is_a_repeat_whether_its_event_id_is_known_or_not() {
    let Input::Debited(same) = debited() else {
        unreachable!()
    };
    for known in [seen(None), seen(Some(DEBIT_EVENT))] {
        assert_eq!(check_debit(&known, &same), Ok(()));
    }
}

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

#[test]
fn a_debit_older_than_the_retention_never_starts_a_saga() {
    let late = at(RETENTION + 1);
    assert_eq!(
        decide(None, &debited(), late, &timing()),
        Err(Anomaly::DebitPastRetention {
            event_id: DEBIT_EVENT,
            occurred_at: at(0),
        })
    );
}

#[test]
fn a_debit_as_old_as_the_retention_still_starts_its_saga() {
    // A saga that lagged (say, down for a while) still runs the transfer.
    let transition = decide(None, &debited(), at(RETENTION), &timing())
        .expect("no anomaly")
        .expect("a transition");
    assert_eq!(transition.state.step, SagaStep::Crediting);
}

#[test]
fn no_late_leg_of_a_forgotten_transfer_restarts_or_pays_it() {
    // Forgotten: no state. Its debit is past the retention by then.
    let after_expiry = at(RETENTION + 10);
    let Err(Anomaly::DebitPastRetention { .. }) = decide(None, &debited(), after_expiry, &timing())
    else {
        panic!("a forgotten transfer's debit started a saga again")
    };
    for input in [
        credited(),
        refunded(),
        rejected(Leg::Credit, RejectionCode::TransferExpired),
        rejected(Leg::Refund, RejectionCode::AccountNotFound),
    ] {
        assert_eq!(
            decide(None, &input, after_expiry, &timing()),
            Err(Anomaly::NoSaga),
            "{input:?}"
        );
    }
    for leg in [Leg::Credit, Leg::Refund] {
        assert_eq!(
            decide(
                None,
                &rejected(leg, RejectionCode::DuplicateTransfer),
                after_expiry,
                &timing()
            ),
            Ok(None),
            "a duplicate answer is ignored as ever"
        );
    }
}

#[test]
fn a_finished_saga_expires_once_the_retention_has_passed_since_it_finished() {
    let failed = step(&refunding(RejectionCode::AccountClosed), &refunded(), at(4)).state;
    assert_eq!(finished_at(&failed), at(4));
    assert!(!timing().is_past_retention(finished_at(&failed), at(4 + RETENTION)));
    assert!(timing().is_past_retention(finished_at(&failed), at(5 + RETENTION)));
}

#[test]
fn a_saga_never_expires_before_its_debit_is_past_the_retention() {
    // The account's clock ahead of the saga's: the saga's last progress
    // predates the debit's own time.
    let mut skewed = step(&crediting(), &credited(), at(3)).state;
    skewed.started_at = at(100);
    assert_eq!(finished_at(&skewed), at(100));
    let now = at(50 + RETENTION);
    assert!(!timing().is_past_retention(finished_at(&skewed), now));
    assert!(!timing().is_past_retention(skewed.started_at, now));
}
