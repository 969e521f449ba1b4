//! A projector stopped gracefully mid-stream and restarted: nothing lost,
//! nothing read twice.

use eventbank_testkit::{Isolation, eventually_every};

use super::producers::{Producers, wait_for_ends};
use super::streams::Pace;
use super::{CLOSELY, fresh_projection, fresh_settings, live_settings, small_batches};
use crate::common::dump::{assert_same, dump};
use crate::common::{LONG, Running, events_total};

/// A graceful stop while batches stream in: the projector receives the next
/// batch while it applies the current one, and commits only what it has
/// applied. A record committed but not applied would be skipped after the
/// restart (the view would stall on the gap); one applied but not committed
/// would be read twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stopped_mid_stream_and_restarted_loses_and_reads_twice_nothing() {
    let isolation = Isolation::new("stop");
    let settings = live_settings(&isolation);
    // Small batches: many apply-while-receiving rounds before the stop.
    let busy = small_batches(&settings);
    eventbank_runtime::kafka::ensure_system_topics(&settings.kafka, LONG)
        .await
        .expect("topics");
    let producers = Producers::start(&settings, 200, Pace::STEADY);
    producers.wait_for_backlog(2000).await;
    let stopping = Running::start(busy).await;
    eventually_every(
        "the projector to apply 500 events",
        LONG,
        CLOSELY,
        || async {
            let applied = events_total(&stopping.metrics().await.unwrap_or_default(), "applied");
            (applied >= 500).then_some(())
        },
    )
    .await;
    assert!(
        !producers.finished(),
        "the stream ended before the stop; the test would prove nothing"
    );
    stopping.stop().await;
    let (ends, _) = producers.finish(false).await;

    let restarted = Running::start_ready(settings.clone()).await;
    wait_for_ends("the restarted projector caught up", &restarted.store, &ends).await;
    let metrics = restarted.metrics().await.expect("GET /metrics");
    assert_eq!(
        events_total(&metrics, "skipped"),
        0,
        "the restart read applied events again: {metrics}"
    );

    let fresh = fresh_projection(&isolation, &ends).await;
    let live = dump(&settings.redis.key_prefix).await;
    let rebuilt = dump(&fresh_settings(&isolation).redis.key_prefix).await;
    assert_same(&live, &rebuilt);
    restarted.stop().await;
    fresh.stop().await;
}
