//! A projector killed mid-stream, its last commits lost, and restarted: the
//! view equals a fresh projection of the same topics.

use balance_projector::store::Store;
use eventbank_testkit::{Isolation, eventually_every};
use tokio_util::sync::CancellationToken;

use super::crashable::Crashable;
use super::producers::{Producers, wait_for_ends};
use super::rewind::rewind_committed;
use super::streams::Pace;
use super::{CLOSELY, fresh_projection, fresh_settings, live_settings, small_batches};
use crate::common::dump::{Dumped, assert_same, dump};
use crate::common::{LONG, Running, events_total};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_mid_stream_and_restart_equals_a_fresh_rebuild() {
    let isolation = Isolation::new("crash");
    let settings = live_settings(&isolation);
    // Small batches, so a kill lands between many Redis writes and commits.
    let crash_settings = small_batches(&settings);
    let go = CancellationToken::new();
    let crashing = Crashable::start(crash_settings, go.clone()).await;

    // 20 accounts x 200 account events, plus their transfer events, over
    // several seconds.
    let producers = Producers::start(&settings, 200, Pace::STEADY);
    // Start projecting once there is a large backlog, so the kill lands while
    // the projector is busy with batches (it keeps up with the stream
    // otherwise, and would mostly be killed idle).
    producers.wait_for_backlog(2000).await;
    go.cancel();
    let observer = Store::connect(&settings.redis.url, &settings.redis.key_prefix)
        .await
        .expect("redis");
    eventually_every("the projector to apply", LONG, CLOSELY, || async {
        let accounts = observer.scan_accounts().await.expect("scan");
        (accounts.iter().map(|a| a.version).sum::<u64>() >= 1).then_some(())
    })
    .await;
    assert!(
        !producers.finished(),
        "the stream ended before the crash; the test would prove nothing"
    );
    let produced_at_crash = producers.produced();
    crashing.crash();
    let applied_at_crash: u64 = observer
        .scan_accounts()
        .await
        .unwrap()
        .iter()
        .map(|a| a.version)
        .sum();
    let (ends, total) = producers.finish(false).await;
    assert!(total >= 2000, "only {total} events");
    assert!(
        produced_at_crash < total,
        "{produced_at_crash} of {total} produced at the crash"
    );

    // Whether or not the kill landed between a batch's Redis writes and its
    // offset commit (it is quick, so mostly it does not), make that state
    // certain and large: rewind the group's commits to half.
    let rewound = {
        let settings = settings.clone();
        tokio::task::spawn_blocking(move || rewind_committed(&settings))
            .await
            .unwrap()
    };
    assert!(rewound > 0);

    // Restart on the same group and keyspace.
    let restarted = Running::start_ready(settings.clone()).await;
    wait_for_ends("the restarted projector caught up", &restarted.store, &ends).await;

    // Events the restart read again although the crashed one had applied
    // them (written to Redis, offsets never committed).
    let metrics = restarted.metrics().await.expect("GET /metrics");
    let reapplied = events_total(&metrics, "skipped");
    assert!(reapplied > 0, "nothing was read twice: {metrics}");

    let fresh = fresh_projection(&isolation, &ends).await;

    // The whole keyspace, including `generation` and `generations_allocated`
    // (both 1 on either side).
    let live = dump(&settings.redis.key_prefix).await;
    let rebuilt = dump(&fresh_settings(&isolation).redis.key_prefix).await;
    eprintln!(
        "crash: {produced_at_crash}/{total} produced, versions summing to {applied_at_crash} \
         applied at the crash; {rewound} offsets rewound, {reapplied} events re-read after the \
         restart; {} keys compared",
        live.len()
    );
    assert_same(&live, &rebuilt);
    assert_eq!(live.get("generation"), Some(&Dumped::String("1".into())));
    assert!(
        live.contains_key("g1:stalled:acct"),
        "the gap is in the view"
    );

    restarted.stop().await;
    fresh.stop().await;
}
