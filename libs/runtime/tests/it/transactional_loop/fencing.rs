//! Fencing: an instance that lost its identity, its partitions or its life
//! mid-transaction must not commit, and must not block its successor.

use std::sync::atomic::Ordering;
use std::time::Duration;

use eventbank_runtime::http::Readiness;
use eventbank_testkit::Isolation;

use super::harness::{Harness, STALL, TIMEOUT, payloads, scopeguard};
use super::numbering::Faults;

#[tokio::test(flavor = "multi_thread")]
async fn a_static_member_fenced_by_another_instance_stops_its_loop_not_ready() {
    // Two instances claiming one static identity (a zombie pod and its
    // replacement): the older consumer is fenced out of the group, a fatal
    // consumer error. Its loop must stop and say so, not spin looking ready.
    let isolation = Isolation::new("txloop-fenced");
    let harness = Harness::new(&isolation).await;
    harness.produce(&["a1".into()]).await;
    let mut first = harness.config.clone();
    first.group_instance_id = Some(format!("{}-member", isolation.run_id));
    let readiness = Readiness::new();
    let (old_shutdown, old) = harness.start_with(first.clone(), &readiness);
    let _stop_old = old_shutdown.drop_guard();
    harness
        .wait_for_outputs("the first instance working", 1, TIMEOUT)
        .await;

    let mut second = first;
    second.transactional_id = format!("{}-numbering-2", isolation.run_id);
    let (new_shutdown, new) = harness.start_with(second, &Readiness::new());
    let _stop_new = new_shutdown.clone().drop_guard();
    let stopped = tokio::time::timeout(Duration::from_secs(90), old)
        .await
        .expect("the fenced loop stops")
        .expect("join");
    let err = stopped.expect_err("a fenced member's loop fails");
    println!("fenced loop stopped with: {err}");
    assert!(
        !readiness.report().ready,
        "not ready after a fatal consumer error"
    );
    new_shutdown.cancel();
    new.await
        .expect("join")
        .expect("the live instance stops cleanly");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_zombie_cannot_commit_timed_work_after_losing_its_partitions() {
    // A tick's transaction consumes nothing, yet must be fenced like a
    // batch's: an instance that stalled past max.poll.interval has lost its
    // partitions to another member and must not commit what it computed.
    let isolation = Isolation::new("txloop-zombie");
    let harness = Harness::new(&isolation).await;
    let settings = harness.quickly_evicting_settings();
    let mut config = harness.config.clone();
    config.tick_interval = Some(Duration::from_millis(200));
    harness.produce(&["a1".into(), "a2".into()]).await;

    let faults = Faults::default();
    let (zombie_stop, zombie) =
        harness.start_member(settings.clone(), config.clone(), faults.clone());
    // A failed assertion must stop the loops too, or their blocking threads
    // keep the test's runtime (and the test) alive.
    let _stop_zombie = zombie_stop.clone().drop_guard();
    harness
        .wait_for_outputs("the first instance working", 2, TIMEOUT)
        .await;
    faults.stall_tick.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let mut successor = config;
    successor.transactional_id = format!("{}-numbering-successor", isolation.run_id);
    let (successor_stop, successor) = harness.start_member(settings, successor, Faults::default());
    let _stop_successor = successor_stop.clone().drop_guard();
    // Past the stall: the zombie has tried to commit its tick by now.
    tokio::time::sleep(STALL + Duration::from_secs(5)).await;
    harness.produce(&["a3".into()]).await;
    harness
        .wait_for_outputs("the group still working", 3, TIMEOUT)
        .await;

    let outputs = payloads(&harness.read(&harness.output).await);
    assert!(
        !outputs.iter().any(|output| output == "zombie"),
        "the zombie's tick was committed: {outputs:?}"
    );
    zombie_stop.cancel();
    successor_stop.cancel();
    let _ = zombie.await;
    let _ = successor.await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transaction_left_open_on_any_producer_of_the_ring_is_aborted_by_the_next_instance() {
    // The loop uses its transactional producers in turn; an instance that
    // dies with a transaction open on one that is not the first must not
    // leave it for the broker's transaction timeout (here 15 minutes) to
    // abort: until then no read-committed reader gets past its records, and
    // the successor's own restore, which reads to the high watermark, waits.
    let isolation = Isolation::new("txloop-ring");
    let mut harness = Harness::new(&isolation).await;
    harness.settings.transaction_timeout_ms = 900_000;
    let mut config = harness.config.clone();
    config.transactional_producers = 2;
    let settings = harness.quickly_evicting_settings();
    harness
        .produce(&["a1".into(), "hold".into(), "a2".into()])
        .await;

    let faults = Faults::default();
    faults.hold.store(true, Ordering::SeqCst);
    let (frozen_stop, frozen) =
        harness.start_member(settings.clone(), config.clone(), faults.clone());
    let _stop_frozen = frozen_stop.clone().drop_guard();
    let release = faults.released.clone();
    // However the test ends, the frozen thread must be let go, or the
    // runtime waits for it.
    let _release = scopeguard(move || release.store(true, Ordering::SeqCst));
    // The first transaction runs on the ring's second producer; give a1's
    // outputs time to reach the broker inside it.
    tokio::time::sleep(Duration::from_secs(5)).await;

    // The same instance again (same transactional ids), as after a crash.
    let (successor_stop, successor) = harness.start_member(settings, config, Faults::default());
    let _stop_successor = successor_stop.clone().drop_guard();
    harness
        .wait_for_outputs(
            "every record handled by the successor",
            3,
            Duration::from_secs(90),
        )
        .await;
    assert_eq!(
        payloads(&harness.read(&harness.output).await),
        ["1:a1", "2:hold", "3:a2"],
        "the frozen instance's open transaction aborted, each record once"
    );
    frozen_stop.cancel();
    faults.released.store(true, Ordering::SeqCst);
    let _ = frozen.await;
    successor_stop.cancel();
    let _ = successor.await;
}
