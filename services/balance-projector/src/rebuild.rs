//! Serving the current generation, and rebuilding into a fresh one.
//!
//! The serving projector writes the generation named by `{key_prefix}generation`.
//! A rebuild projects every event from offset zero into a new generation
//! (its own consumer group) while the old one keeps serving, then switches
//! the `generation` key atomically (compare-and-set) once it has caught up
//! on every partition. Every instance's supervisor sees the switch and moves
//! its serving projector to the new generation, continuing from the
//! rebuild's committed offsets.

use std::time::Duration;

use eventbank_runtime::kafka::KafkaSettings;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::metrics::ProjectorMetrics;
use crate::projector::{Projector, ServingReadiness};
use crate::settings::ProjectorSettings;
use crate::store::Store;

const WATCH_INTERVAL: Duration = Duration::from_millis(500);

/// What it takes to start projectors.
#[derive(Debug, Clone)]
pub struct Projectors {
    pub kafka: KafkaSettings,
    pub settings: ProjectorSettings,
    pub store: Store,
    pub metrics: ProjectorMetrics,
    pub tracker: TaskTracker,
    pub shutdown: CancellationToken,
}

impl Projectors {
    /// Runs the serving projector, following generation switches, until shutdown.
    pub async fn serve(self, readiness: ServingReadiness) -> anyhow::Result<()> {
        let mut generation = self.store.current_generation().await?;
        loop {
            let stop = self.shutdown.child_token();
            let projector = Projector::new(
                &self.kafka,
                &self.settings,
                self.store.at_generation(generation),
                self.metrics.clone(),
                Some(readiness.clone()),
            )?;
            tracing::info!(generation, "projecting");
            let mut task = tokio::spawn(projector.run(stop.clone()));
            let next = loop {
                tokio::select! {
                    () = self.shutdown.cancelled() => {
                        return task.await?;
                    }
                    finished = &mut task => {
                        // The projector only stops by itself on an error.
                        finished??;
                        anyhow::bail!("projector of generation {generation} stopped");
                    }
                    () = tokio::time::sleep(WATCH_INTERVAL) => {}
                }
                match self.store.current_generation().await {
                    Ok(current) if current != generation => break current,
                    Ok(_) => {}
                    Err(err) => tracing::warn!(error = %err, "cannot read the current generation"),
                }
            };
            tracing::info!(from = generation, to = next, "switching generation");
            stop.cancel();
            task.await??;
            generation = next;
        }
    }

    /// Starts a rebuild into a fresh generation; returns (from, to).
    pub async fn start_rebuild(&self) -> anyhow::Result<(u64, u64)> {
        let from = self.store.current_generation().await?;
        let to = self.store.allocate_generation().await?;
        let projector = Projector::new(
            &self.kafka,
            &self.settings,
            self.store.at_generation(to),
            self.metrics.clone(),
            None,
        )?;
        let mut progress = projector.progress();
        // Under steady writes a consuming projector is rarely at lag exactly
        // zero, so the switch happens once the rebuild trails by at most one
        // batch. Nothing is lost: the serving projector continues from the
        // rebuild's committed offsets, and readers asking for a version it
        // has not applied yet wait for it (`min_version`).
        let switch_lag = i64::try_from(self.settings.max_batch).unwrap_or(i64::MAX);
        let stop = self.shutdown.child_token();
        let store = self.store.clone();
        self.tracker.spawn(async move {
            tracing::info!(from, to, "rebuilding the read model from offset zero");
            let task = tokio::spawn(projector.run(stop.clone()));
            let caught_up = tokio::select! {
                reached = progress.wait_for(|p| p.all_partitions && (p.caught_up || p.behind <= switch_lag)) => reached.is_ok(),
                () = stop.cancelled() => false,
            };
            if caught_up && !stop.is_cancelled() {
                match store.switch_generation(from, to).await {
                    Ok(true) => tracing::info!(from, to, "switched to the rebuilt generation"),
                    Ok(false) => tracing::warn!(
                        from,
                        to,
                        "the generation changed during the rebuild; abandoning it"
                    ),
                    Err(err) => tracing::error!(error = %err, "switching generations failed"),
                }
            }
            stop.cancel();
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(err)) => tracing::error!(error = %err, to, "rebuild failed"),
                Err(err) => tracing::error!(error = %err, to, "rebuild panicked"),
            }
        });
        Ok((from, to))
    }
}
