//! The retention of finished transfers: a debit older than it starts nothing,
//! a forgotten transfer is never restarted or paid, and when a saga expires.

use super::*;

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
