//! Unit tests of the saga store: expiry of finished transfers (oldest first,
//! bounded, undone by an abort), restore, dropped partitions, restore figures.

use std::time::Instant;

use eventbank_events::{
    AccountId, Amount, CorrelationId, Currency, SagaStep, TransferSagaSnapshot, WireRecord,
};
use uuid::Uuid;

use super::*;
use crate::domain::test_clock::{at, timing_secs};

const PARTITION: i32 = 3;
const RETENTION: i64 = 60;

fn timing() -> Timing {
    timing_secs(1, 10, RETENTION)
}

fn id(n: u128) -> TransferId {
    TransferId::from_uuid(Uuid::from_u128(n))
}

/// Transfer `n` in `step`, debited at `at(0)`, last progressed at
/// `at(progressed)`.
fn saga(n: u128, step: SagaStep, progressed: i64) -> TransferSagaSnapshot {
    TransferSagaSnapshot {
        schema_version: TransferSagaSnapshot::CURRENT_VERSION,
        transfer_id: id(n),
        from: AccountId::from_uuid(Uuid::from_u128(0xA)),
        to: AccountId::from_uuid(Uuid::from_u128(0xB)),
        amount: Amount::new(100).expect("positive"),
        currency: Currency::EUR,
        correlation_id: CorrelationId::from_uuid(Uuid::from_u128(n)),
        step,
        failure_reason: None,
        attempts: 1,
        started_at: at(0),
        last_progress_at: at(progressed),
    }
}

fn committed(states: impl IntoIterator<Item = TransferSagaSnapshot>) -> Sagas {
    let mut sagas = Sagas::default();
    for state in states {
        sagas.stage(PARTITION, state, None);
    }
    sagas.commit();
    sagas
}

#[test]
fn only_finished_sagas_past_their_retention_expire_oldest_first() {
    let mut sagas = committed([
        saga(1, SagaStep::Completed, 20),
        saga(2, SagaStep::Failed, 10),
        saga(3, SagaStep::Completed, 50),
        saga(4, SagaStep::Crediting, 0),
        saga(5, SagaStep::Refunding, 0),
    ]);
    let now = at(RETENTION + 30);
    assert_eq!(
        sagas.expire(now, &timing(), 100),
        vec![(PARTITION, id(2)), (PARTITION, id(1))],
        "finished at 10 and 20 are past a retention of 60 at 90; 50 is not, pending never"
    );
    sagas.commit();
    assert!(!sagas.is_finished(PARTITION, id(1)));
    assert!(sagas.debit_seen(PARTITION, id(2)).is_none());
    assert!(sagas.is_finished(PARTITION, id(3)));
    assert_eq!(sagas.finished_count(), 1);
    assert!(sagas.get(PARTITION, id(4)).is_some());
    assert_eq!(sagas.expire(now, &timing(), 100), vec![]);
}

#[test]
fn an_aborted_expiry_forgets_nothing_and_comes_again() {
    let mut sagas = committed([saga(1, SagaStep::Completed, 0)]);
    let now = at(RETENTION + 1);
    assert_eq!(sagas.expire(now, &timing(), 100).len(), 1);
    sagas.abort();
    assert!(sagas.is_finished(PARTITION, id(1)));
    assert_eq!(sagas.expire(now, &timing(), 100).len(), 1);
}

#[test]
fn expiry_takes_at_most_the_limit_per_call() {
    let mut sagas = committed((1..=5).map(|n| saga(n, SagaStep::Completed, 0)));
    let now = at(RETENTION + 1);
    assert_eq!(sagas.expire(now, &timing(), 2).len(), 2);
    sagas.commit();
    assert_eq!(sagas.finished_count(), 3);
}

#[test]
fn a_restore_loads_no_finished_saga_past_its_retention_but_tombstones_it() {
    let mut sagas = Sagas::default();
    let now = at(RETENTION + 30);
    sagas.restore(
        PARTITION,
        vec![
            saga(1, SagaStep::Crediting, 0),
            saga(1, SagaStep::Completed, 10),
            saga(2, SagaStep::Completed, 50),
            saga(3, SagaStep::Refunding, 0),
        ],
        now,
        &timing(),
    );
    assert!(!sagas.is_finished(PARTITION, id(1)), "expired: not loaded");
    assert!(
        sagas.get(PARTITION, id(1)).is_none(),
        "nor its earlier state"
    );
    assert!(sagas.is_finished(PARTITION, id(2)));
    assert!(
        sagas.get(PARTITION, id(3)).is_some(),
        "pending sagas never expire"
    );
    assert_eq!(sagas.finished_count(), 1);
    assert_eq!(sagas.expire(now, &timing(), 100), vec![(PARTITION, id(1))]);
    sagas.commit();
    assert_eq!(sagas.expire(now, &timing(), 100), vec![]);
}

#[test]
fn a_dropped_partition_leaves_no_expiry_behind() {
    let mut sagas = committed([saga(1, SagaStep::Completed, 0)]);
    sagas.restore(
        PARTITION,
        vec![saga(2, SagaStep::Failed, 0)],
        at(RETENTION + 1),
        &timing(),
    );
    sagas.drop_partition(PARTITION);
    assert_eq!(sagas.expire(at(RETENTION + 1), &timing(), 100), vec![]);
}

fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Figures, not limits: how long restoring 100k finished transfers takes
/// and how much resident memory they add (whole-process RSS, so other
/// tests running at the same time blur it; run alone with
/// `--test-threads=1 --nocapture` for a clean figure).
#[test]
fn figures_of_restoring_100k_finished_transfers() {
    const COUNT: u128 = 100_000;
    let at_start = resident_kib();
    let snapshots: Vec<_> = (1..=COUNT)
        .map(|n| saga(n, SagaStep::Completed, 0))
        .collect();
    let with_snapshots = resident_kib();
    let started = Instant::now();
    let mut sagas = Sagas::default();
    sagas.restore(PARTITION, snapshots, at(1), &timing());
    let elapsed = started.elapsed();
    let restored = resident_kib();
    let kib = |kib: Option<u64>| kib.map_or_else(|| "?".to_owned(), |kib| kib.to_string());
    eprintln!(
        "restored {COUNT} finished transfers into Sagas in {elapsed:?}; VmRSS: {} kB at start, \
         {} kB with the decoded snapshots, {} kB once restored (the snapshots consumed, \
         their memory kept by the allocator: an upper bound of what Sagas holds)",
        kib(at_start),
        kib(with_snapshots),
        kib(restored),
    );
    assert_eq!(sagas.finished_count(), 100_000);
    assert!(sagas.is_finished(PARTITION, id(COUNT / 2)));
}
