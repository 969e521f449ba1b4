//! A rebuild while writes continue: it switches generations under load and
//! ends equal to the live view.

use std::time::Duration;

use eventbank_testkit::Isolation;

use super::producers::{Producers, wait_for_ends};
use super::streams::Pace;
use super::{fresh_projection, live_settings};
use crate::common::Running;
use crate::common::dump::{assert_same, dump};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rebuild_while_writes_continue_ends_equal_to_the_live_view() {
    let isolation = Isolation::new("rebuild-load");
    let settings = live_settings(&isolation);
    let live = Running::start_ready(settings.clone()).await;

    // A backlog for the rebuild to read through (20 events per account at
    // once), then open-ended streams (capped) until told to stop, at a
    // sustained rate (a pause of 10 ms per account stream: several hundred
    // records/s). The rebuild must still switch: it does once it trails the
    // log by at most one batch, not only at a moment of zero lag.
    let pace = Pace {
        fast_first: 20,
        pause: Duration::from_millis(10),
    };
    let producers = Producers::start(&settings, 100_000, pace);
    producers.wait_for_backlog(400).await;

    let (status, body) = live.post("/admin/rebuild").await;
    assert_eq!(status, 202);
    assert_eq!(body["generation"], 2);
    let produced_at_rebuild = producers.produced();

    live.wait_generation(2).await;
    let produced_at_switch = producers.produced();
    assert!(
        !producers.finished(),
        "writes must still be going on at the switch"
    );
    // Keep writing a little after the switch, into the new generation.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (ends, total) = producers.finish(true).await;

    let current = live.store.serving().await.unwrap();
    assert_eq!(current.generation(), 2);
    wait_for_ends("the live view caught up", &current, &ends).await;

    let fresh = fresh_projection(&isolation, &ends).await;

    // Only the generations' own keyspaces: the live side also has the old
    // generation 1 and `generation`/`generations_allocated` = 2.
    let live_view = dump(current.base()).await;
    let rebuilt = dump(fresh.store.base()).await;
    eprintln!(
        "rebuild: started at {produced_at_rebuild}, switched at {produced_at_switch}, \
         {total} events in all; {} keys compared",
        live_view.len()
    );
    assert!(
        produced_at_switch > produced_at_rebuild,
        "no write during the rebuild"
    );
    assert_same(&live_view, &rebuilt);
    assert!(
        live_view.contains_key("stalled:acct"),
        "the gap is in the view"
    );

    live.stop().await;
    fresh.stop().await;
}
