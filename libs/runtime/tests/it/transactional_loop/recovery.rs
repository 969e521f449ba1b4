//! Recovery and readiness: a broker outage restarts the loop in place, and
//! the loop says it is ready only once its partitions are restored.

use std::sync::atomic::Ordering;
use std::time::Duration;

use eventbank_runtime::http::{MetricsRegistry, Readiness};
use eventbank_testkit::{Isolation, PrivateKafka, eventually};

use super::harness::{Harness, TIMEOUT, counter, payloads, scopeguard};
use super::numbering::Faults;

#[tokio::test(flavor = "multi_thread")]
async fn a_broker_outage_restarts_the_loop_in_place_instead_of_stopping_it() {
    // The broker is gone when the loop starts (init_transactions times out)
    // and comes back later: before, the first error stopped the loop and
    // with it the service, which then waited for a person.
    let mut cluster = PrivateKafka::start(1).await;
    let isolation = Isolation::new("txloop-outage");
    let harness = Harness::on(
        cluster.kafka_settings(&isolation.topic_prefix()),
        &isolation,
    )
    .await;
    harness.produce(&["a1".into(), "a2".into()]).await;
    cluster.kill(0);

    let mut config = harness.config.clone();
    config.call_timeout = Duration::from_secs(3);
    let readiness = Readiness::new();
    let registry = MetricsRegistry::new("test", "0");
    let (shutdown, handle) = harness.start_stalling(
        harness.settings.clone(),
        config,
        &readiness,
        &registry,
        Faults::default(),
    );
    let _stop = shutdown.clone().drop_guard();
    eventually(
        "the loop failing and starting again",
        Duration::from_secs(90),
        || async { (counter(&registry, "eventbank_txn_loop_restarts_total") >= 2).then_some(()) },
    )
    .await;
    assert!(!handle.is_finished(), "a transient error stopped the loop");
    assert!(!readiness.report().ready, "not ready while it cannot start");

    cluster.restart(0);
    harness.produce(&["a3".into()]).await;
    harness
        .wait_for_outputs(
            "every record handled once the broker is back",
            3,
            Duration::from_secs(120),
        )
        .await;
    assert!(readiness.report().ready, "ready again");
    shutdown.cancel();
    handle.await.expect("join").expect("loop stopped cleanly");
    assert_eq!(
        payloads(&harness.read(&harness.output).await),
        ["1:a1", "2:a2", "3:a3"],
        "each record once, numbered without gaps, after the restarts"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn not_ready_until_its_partitions_are_restored() {
    // A ready instance gets traffic and lets a rolling update move on: it
    // must not say so while it is still restoring what it was assigned.
    let isolation = Isolation::new("txloop-ready");
    let harness = Harness::new(&isolation).await;
    harness.produce(&["a1".into()]).await;
    let faults = Faults::default();
    faults.hold_restore.store(true, Ordering::SeqCst);
    let readiness = Readiness::new();
    let (shutdown, handle) = harness.start_stalling(
        harness.settings.clone(),
        harness.config.clone(),
        &readiness,
        &MetricsRegistry::new("test", "0"),
        faults.clone(),
    );
    let _stop = shutdown.clone().drop_guard();
    let release = faults.released.clone();
    let _release = scopeguard(move || release.store(true, Ordering::SeqCst));
    assert!(
        !readiness.report().ready,
        "ready before it joined its group"
    );
    eventually("the restore under way", TIMEOUT, || async {
        faults.restoring.load(Ordering::SeqCst).then_some(())
    })
    .await;
    assert!(!readiness.report().ready, "ready while restoring");

    faults.released.store(true, Ordering::SeqCst);
    eventually("ready once restored", TIMEOUT, || async {
        readiness.report().ready.then_some(())
    })
    .await;
    eventually("the record handled", TIMEOUT, || async {
        (!harness.read(&harness.output).await.is_empty()).then_some(())
    })
    .await;
    shutdown.cancel();
    handle.await.expect("join").expect("loop stopped cleanly");
}
