//! Waiting for an asynchronous effect without timing assertions.

use std::future::Future;
use std::time::{Duration, Instant};

/// Polls `probe` until it yields `Some`, for at most `limit`. The limit is a
/// deadlock guard, generous on purpose, not a performance assertion: a slow
/// shared machine must not fail a correct system.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    eventually_every(what, limit, Duration::from_millis(50), probe).await
}

/// [`eventually`], polling every `interval`: a short one for a test that
/// must act in the moment an effect shows (a kill that has to land
/// mid-stream).
pub async fn eventually_every<T, F, Fut>(
    what: &str,
    limit: Duration,
    interval: Duration,
    mut probe: F,
) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            started.elapsed() < limit,
            "gave up waiting for {what} after {limit:?}"
        );
        tokio::time::sleep(interval).await;
    }
}
