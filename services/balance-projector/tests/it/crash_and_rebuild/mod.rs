//! Issue 4: the view survives a crash mid-stream and a rebuild under load.
//!
//! Both tests compare a full dump of the Redis keyspace (every key, its type
//! and its value) with a fresh projection of the same topics by a projector
//! with its own consumer group and its own key prefix.

mod crash;
mod crashable;
mod producers;
mod rebuild;
mod rewind;
mod stop;
mod streams;

use std::time::Duration;

use crate::common::{self, Running};

use balance_projector::Settings;
use eventbank_testkit::Isolation;

use producers::wait_for_ends;
use streams::StreamEnd;

/// How often a test looks for the moment to stop or kill a projector: often,
/// so that the stop lands while the stream is still going.
const CLOSELY: Duration = Duration::from_millis(2);

pub(super) fn settings(isolation: &Isolation, group: &str, key_prefix: &str) -> Settings {
    let mut settings = common::settings(isolation);
    settings.redis.key_prefix = key_prefix.to_owned();
    settings.projector.consumer_group = group.to_owned();
    settings.projector.lag_interval_ms = 100;
    // The crash test rewinds the group's commits from outside after the
    // kill, which Kafka allows only once the group is empty; a killed static
    // member stays in it until its session times out (the point of static
    // membership), a dynamic one leaves as its consumer is dropped.
    settings.projector.static_membership = false;
    settings
}

/// The projector under test: the main consumer group and keyspace.
fn live_settings(isolation: &Isolation) -> Settings {
    settings(isolation, "projector", &isolation.redis_prefix())
}

/// `settings` with small batches: many batch boundaries for a stop or a
/// kill to land between.
fn small_batches(settings: &Settings) -> Settings {
    let mut small = settings.clone();
    small.projector.max_batch = 20;
    small
}

/// The same topics, another consumer group and a key prefix that does not
/// overlap the main one (`{run_id}-fresh:` is not under `{run_id}:`).
pub(super) fn fresh_settings(isolation: &Isolation) -> Settings {
    settings(
        isolation,
        "fresh-projection",
        &format!("{}-fresh:", isolation.run_id),
    )
}

/// A projector of the same topics into a keyspace of its own
/// ([`fresh_settings`]), once it has caught up to `ends`: what the view
/// under test must equal.
async fn fresh_projection(isolation: &Isolation, ends: &[StreamEnd]) -> Running {
    let fresh = Running::start_ready(fresh_settings(isolation)).await;
    wait_for_ends("the fresh projection caught up", &fresh.store, ends).await;
    fresh
}
