//! The debit leg: it starts the saga; a repeat changes nothing; another debit
//! under a known transfer id is an anomaly.

use super::*;

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
