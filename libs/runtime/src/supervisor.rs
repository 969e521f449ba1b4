//! One supervisor for a service's critical tasks: it runs until shutdown is
//! asked for or the first task ends, then stops the rest and waits for them
//! within one grace period, and says which task failed.
//!
//! A critical task ending on its own (even without an error) stops the whole
//! service: a service whose consumer loop died but whose HTTP server still
//! answers would look alive to its orchestrator while doing nothing.

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error_chain::Chain;

/// How long the tasks get to finish what they hold after a stop (a batch in
/// hand, in-flight requests) before the service gives up on them.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(20);

type Outcome = Result<anyhow::Result<()>, tokio::task::JoinError>;

#[derive(Debug)]
pub struct Supervisor {
    tasks: Vec<(String, JoinHandle<anyhow::Result<()>>)>,
    task_shutdown: CancellationToken,
    grace: Duration,
}

impl Supervisor {
    /// A supervisor whose tasks heed `task_shutdown`: it is cancelled when
    /// the service is asked to stop, when any task ends, or when
    /// [`Supervisor::run`]'s future is dropped. `grace` bounds the drain.
    pub fn new(task_shutdown: CancellationToken, grace: Duration) -> Self {
        Self {
            tasks: Vec::new(),
            task_shutdown,
            grace,
        }
    }

    /// The token every task must heed (a clone of the one given to `new`).
    pub fn task_shutdown(&self) -> CancellationToken {
        self.task_shutdown.clone()
    }

    /// Runs `future` as a critical task named `name`.
    pub fn spawn<F, E>(&mut self, name: impl Into<String>, future: F)
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<anyhow::Error> + 'static,
    {
        let handle = tokio::spawn(async move { future.await.map_err(Into::into) });
        self.tasks.push((name.into(), handle));
    }

    /// Watches an already started task (a blocking loop's handle, say).
    pub fn watch<E>(&mut self, name: impl Into<String>, handle: JoinHandle<Result<(), E>>)
    where
        E: Into<anyhow::Error> + Send + 'static,
    {
        self.spawn(name, async move {
            handle
                .await
                .map_err(anyhow::Error::from)?
                .map_err(Into::into)
        });
    }

    /// Waits for `shutdown` or the first task to end, then cancels the
    /// tasks' token and waits for all of them, the grace at most in all.
    /// `Ok` only if shutdown was asked for and every task finished cleanly in
    /// time.
    pub async fn run(self, shutdown: &CancellationToken) -> anyhow::Result<()> {
        // If this future is dropped instead of finishing (a runtime shutting
        // down), the tasks must still hear about it.
        let _on_drop = self.task_shutdown.clone().drop_guard();
        let (task_shutdown, grace) = (self.task_shutdown, self.grace);
        let names: Vec<String> = self.tasks.iter().map(|(name, _)| name.clone()).collect();
        let mut running: FuturesUnordered<_> = self
            .tasks
            .into_iter()
            .map(|(name, handle)| async move { (name, handle.await) })
            .collect();
        let mut failures = Vec::new();
        let mut finished = Vec::new();
        let early = tokio::select! {
            () = shutdown.cancelled() => None,
            Some(first) = running.next() => Some(first),
        };
        task_shutdown.cancel();
        if let Some((name, outcome)) = early {
            let why = failure(outcome).unwrap_or_else(|| "without an error".to_owned());
            failures.push(format!("{name} stopped without being asked to ({why})"));
            finished.push(name);
        }
        let drained = tokio::time::timeout(grace, async {
            while let Some((name, outcome)) = running.next().await {
                if let Some(why) = failure(outcome) {
                    failures.push(format!("{name}: {why}"));
                }
                finished.push(name);
            }
        })
        .await;
        if drained.is_err() {
            let stuck: Vec<&String> = names.iter().filter(|n| !finished.contains(n)).collect();
            tracing::error!(
                ?stuck,
                grace_secs = grace.as_secs(),
                "tasks still running at the end of the shutdown grace"
            );
            failures.push(format!(
                "still running after the {} s shutdown grace: {}",
                grace.as_secs(),
                stuck
                    .iter()
                    .map(|n| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if failures.is_empty() {
            Ok(())
        } else {
            anyhow::bail!("{}", failures.join("; "))
        }
    }
}

fn failure(outcome: Outcome) -> Option<String> {
    match outcome {
        Ok(Ok(())) => None,
        // The shared chain printer: anyhow's `{:#}` prints a cause again
        // after a wrapper whose own text already ends with it ("processor:
        // {0}" around a ProcessorError with a source).
        Ok(Err(err)) => Some(Chain(err.as_ref()).to_string()),
        Err(err) => Some(format!("the task panicked or was cancelled: {err}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_requested_stop_waits_for_every_task() {
        let shutdown = CancellationToken::new();
        let mut supervisor = Supervisor::new(CancellationToken::new(), Duration::from_secs(5));
        let task_shutdown = supervisor.task_shutdown();
        for name in ["a", "b"] {
            let task_shutdown = task_shutdown.clone();
            supervisor.spawn(name, async move {
                task_shutdown.cancelled().await;
                Ok::<(), anyhow::Error>(())
            });
        }
        shutdown.cancel();
        supervisor.run(&shutdown).await.expect("clean stop");
    }

    #[tokio::test]
    async fn the_first_task_to_end_stops_the_rest_and_is_named() {
        let shutdown = CancellationToken::new();
        let mut supervisor = Supervisor::new(CancellationToken::new(), Duration::from_secs(5));
        let task_shutdown = supervisor.task_shutdown();
        supervisor.spawn("loop", async { anyhow::bail!("broker gone for good") });
        let stopped = task_shutdown.clone();
        supervisor.spawn("http", async move {
            stopped.cancelled().await;
            Ok::<(), anyhow::Error>(())
        });
        let err = supervisor
            .run(&shutdown)
            .await
            .expect_err("an early end is a failure");
        let text = err.to_string();
        assert!(
            text.contains("loop stopped without being asked to"),
            "{text}"
        );
        assert!(text.contains("broker gone for good"), "{text}");
        assert!(task_shutdown.is_cancelled(), "the rest were told to stop");
    }

    #[tokio::test]
    async fn a_failed_task_is_reported_with_each_cause_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("processor: {0}")]
        struct Wrapper(#[from] std::io::Error);

        let shutdown = CancellationToken::new();
        let mut supervisor = Supervisor::new(CancellationToken::new(), Duration::from_secs(5));
        supervisor.spawn("loop", async {
            Err::<(), _>(Wrapper(std::io::Error::other("state topic unreadable")))
        });
        let err = supervisor
            .run(&shutdown)
            .await
            .expect_err("an early end is a failure");
        assert_eq!(
            err.to_string(),
            "loop stopped without being asked to (processor: state topic unreadable)"
        );
    }

    #[tokio::test]
    async fn a_task_that_ignores_the_stop_is_given_up_after_the_grace() {
        let shutdown = CancellationToken::new();
        let mut supervisor = Supervisor::new(CancellationToken::new(), Duration::from_secs(5));
        supervisor.spawn("stubborn", async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok::<(), anyhow::Error>(())
        });
        shutdown.cancel();
        let err = supervisor.run(&shutdown).await.expect_err("past the grace");
        assert!(err.to_string().contains("stubborn"), "{err}");
    }
}
