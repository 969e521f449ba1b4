//! Waiting for an asynchronous effect without timing assertions.

use std::future::Future;
use std::time::{Duration, Instant};

/// Polls `probe` until it yields `Some`, for at most `limit`. The limit is a
/// deadlock guard, generous on purpose, not a performance assertion: a slow
/// shared machine must not fail a correct system.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut probe: F) -> T
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
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
