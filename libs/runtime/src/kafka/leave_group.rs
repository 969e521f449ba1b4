//! Leaving the consumer group before a consumer is dropped.
//!
//! Dropping a group consumer closes it, and librdkafka (2.12) can hang for
//! good there: the revocation callback that the close triggers calls
//! `incremental_unassign`, which waits for a reply that never comes when a
//! rebalance was in flight (librdkafka issue 4884; a gdb dump of a hung test
//! showed exactly that stack). Unsubscribing first lets the revocation run
//! under an ordinary poll; the close that follows has nothing to revoke.

use std::time::Duration;

use rdkafka::consumer::{Consumer, ConsumerContext, StreamConsumer};
use tokio::time::Instant;

/// How long one poll waits while leaving.
const POLL: Duration = Duration::from_millis(100);
/// Polls made even once nothing is assigned: an assignment still on its way
/// (a join in progress) arrives, and is revoked, within them.
const SETTLE_POLLS: u32 = 3;

/// Unsubscribes and polls until nothing is assigned (or `within` passed).
/// Records received meanwhile are dropped unprocessed: their offsets are not
/// committed, so the group's next owner reads them.
pub async fn leave_group<C: ConsumerContext + 'static>(
    consumer: &StreamConsumer<C>,
    within: Duration,
) {
    consumer.unsubscribe();
    let deadline = Instant::now() + within;
    let mut settled = 0;
    while settled < SETTLE_POLLS {
        let assigned = consumer.assignment().map_or(0, |list| list.count());
        settled = if assigned == 0 { settled + 1 } else { 0 };
        if Instant::now() >= deadline {
            tracing::warn!(
                assigned,
                "leaving the consumer group took too long; closing anyway"
            );
            return;
        }
        let _ = tokio::time::timeout(POLL, consumer.recv()).await;
    }
}
