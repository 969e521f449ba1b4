//! Graceful shutdown: one `CancellationToken` tells every task to stop, one
//! `TaskTracker` lets the service wait until they have (so an open Kafka
//! transaction is finished or aborted before the process exits).

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Resolves on SIGTERM (Kubernetes, compose) or Ctrl-C.
pub async fn signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!(signal = "SIGINT", "shutdown requested"),
        () = terminate => tracing::info!(signal = "SIGTERM", "shutdown requested"),
    }
}

/// A token cancelled when the process receives a termination signal.
pub fn on_signal() -> CancellationToken {
    let shutdown = CancellationToken::new();
    let signalled = shutdown.clone();
    tokio::spawn(async move {
        signal().await;
        signalled.cancel();
    });
    shutdown
}

/// Closes the tracker and waits for its tasks, at most `grace`. Returns `false`
/// when tasks were still running at the deadline.
pub async fn drain(tracker: &TaskTracker, grace: Duration) -> bool {
    tracker.close();
    if tokio::time::timeout(grace, tracker.wait()).await.is_ok() {
        true
    } else {
        tracing::warn!(
            remaining = tracker.len(),
            grace_secs = grace.as_secs(),
            "tasks still running at the end of the shutdown grace period"
        );
        false
    }
}

/// Aborts a helper task and waits until it has ended, so whatever it holds
/// (a clone of a consumer's `Arc`, say) is released here and now.
///
/// `JoinHandle::abort` alone only asks: the task's future is dropped when
/// the runtime next gets to it, possibly during the runtime's own shutdown,
/// after the owner has returned. Then the task held the last `Arc` of a
/// Kafka consumer, and the consumer's close (which runs a final rebalance
/// through its context) hung the runtime's shutdown for good: a test
/// process that never exited, about one run in thirty.
pub async fn abort_and_wait(task: tokio::task::JoinHandle<()>) {
    task.abort();
    // Cancelled, finished or panicked: all that matters is that it is over.
    let _ = task.await;
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn an_aborted_task_has_let_go_of_what_it_held_when_it_returns() {
        let held = Arc::new(());
        let in_task = Arc::clone(&held);
        let task = tokio::spawn(async move {
            let _keep = in_task;
            std::future::pending::<()>().await;
        });
        tokio::task::yield_now().await;
        abort_and_wait(task).await;
        assert_eq!(Arc::strong_count(&held), 1, "the task's clone is dropped");
    }
}
