//! Serving the current generation, and rebuilding into a fresh one.
//!
//! The serving projector writes the generation named by `{key_prefix}generation`.
//! A rebuild projects every event from offset zero into a new generation
//! (its own consumer group) while the old one keeps serving, then switches
//! the `generation` key atomically (compare-and-set) once it has caught up
//! on every partition. Every instance's supervisor sees the switch and moves
//! its serving projector to the new generation, continuing from the
//! rebuild's committed offsets.
//!
//! One rebuild at a time, across every instance: a rebuild holds a lock in
//! Redis (renewed while it runs, expiring should its instance die), and a
//! second request while it is held is refused. After the switch, and a grace
//! period in which every instance moves off it, the old generation's keys
//! are deleted; an abandoned rebuild's own generation is deleted likewise.

use std::time::Duration;

use eventbank_runtime::kafka::KafkaSettings;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::metrics::ProjectorMetrics;
use crate::projector::{Projector, ServingReadiness};
use crate::settings::ProjectorSettings;
use crate::store::Store;

const WATCH_INTERVAL: Duration = Duration::from_millis(500);
/// How long the rebuild lock lives unless renewed: long enough to ride out a
/// slow Redis round trip, short enough that a dead instance's rebuild does
/// not block the next for long.
const LOCK_TTL: Duration = Duration::from_secs(30);
/// How often a running rebuild renews its lock.
const LOCK_RENEWAL: Duration = Duration::from_secs(10);
/// After a switch, how long the old generation is left alone before its keys
/// are deleted: every instance's supervisor must have seen the switch
/// (it looks every `WATCH_INTERVAL`) and stopped that generation's
/// projector, or a batch it still applies would write old keys back, and a
/// read that resolved the old generation just before the switch would find
/// nothing.
const DELETE_GRACE: Duration = Duration::from_secs(5);
/// Keys per SCAN page and per UNLINK.
const DELETE_BATCH: usize = 500;

/// Why a rebuild could not start.
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    #[error("a rebuild is already running; one at a time")]
    InProgress,
    #[error("read model: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("projector: {0}")]
    Projector(#[source] anyhow::Error),
}

/// What it takes to start projectors.
#[derive(Debug, Clone)]
pub struct Projectors {
    /// `group.instance.id` of the serving projector (static membership), if any.
    pub static_member: Option<String>,
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
            let generation_shutdown = self.shutdown.child_token();
            let projector = Projector::new(
                &self.kafka,
                &self.settings,
                self.store.at_generation(generation),
                self.metrics.clone(),
                Some(readiness.clone()),
                self.static_member.as_deref(),
            )?;
            tracing::info!(generation, "projecting");
            let mut task = tokio::spawn(projector.run(generation_shutdown.clone()));
            let next = loop {
                tokio::select! {
                    () = self.shutdown.cancelled() => {
                        return task.await?;
                    }
                    finished = &mut task => {
                        finished??;
                        // Shutdown cancels the projector too, and select!
                        // may see it finish before it sees the shutdown.
                        if self.shutdown.is_cancelled() {
                            return Ok(());
                        }
                        // Otherwise it only stops by itself on an error.
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
            generation_shutdown.cancel();
            task.await??;
            generation = next;
        }
    }

    /// Starts a rebuild into a fresh generation; returns (from, to).
    ///
    /// # Errors
    ///
    /// [`RebuildError::InProgress`] while another rebuild (on any instance)
    /// holds the lock; otherwise what kept it from starting.
    pub async fn start_rebuild(&self) -> Result<(u64, u64), RebuildError> {
        // Allocated before the lock, so the lock names its rebuild; a number
        // spent on a refused request is harmless (they only need be unique).
        let to = self.store.allocate_generation().await?;
        if !self.store.lock_rebuild(to, LOCK_TTL).await? {
            return Err(RebuildError::InProgress);
        }
        let started = async {
            let from = self.store.current_generation().await?;
            let projector = Projector::new(
                &self.kafka,
                &self.settings,
                self.store.at_generation(to),
                self.metrics.clone(),
                None,
                // Dynamic: its partitions pass to the serving projector of
                // the new generation as soon as it stops after the switch.
                None,
            )
            .map_err(RebuildError::Projector)?;
            Ok::<_, RebuildError>((from, projector))
        }
        .await;
        let (from, projector) = match started {
            Ok(started) => started,
            Err(err) => {
                if let Err(unlock) = self.store.unlock_rebuild(to).await {
                    tracing::warn!(error = %unlock, to, "cannot release the rebuild lock; it expires");
                }
                return Err(err);
            }
        };
        let mut progress = projector.progress();
        // Under steady writes a consuming projector is rarely at lag exactly
        // zero, so the switch happens once the rebuild trails by at most one
        // batch. Nothing is lost: the serving projector continues from the
        // rebuild's committed offsets, and readers asking for a version it
        // has not applied yet wait for it (`min_version`).
        let switch_lag = i64::try_from(self.settings.max_batch).unwrap_or(i64::MAX);
        let generation_shutdown = self.shutdown.child_token();
        let store = self.store.clone();
        let shutdown = self.shutdown.clone();
        self.tracker.spawn(async move {
            // Held through the deletion too (not tied to `generation_shutdown`): the next
            // rebuild starts once this one has cleaned up.
            let locked = CancellationToken::new();
            let keep_lock = tokio::spawn(keep_lock(store.clone(), to, locked.clone()));
            tracing::info!(from, to, "rebuilding the read model from offset zero");
            let task = tokio::spawn(projector.run(generation_shutdown.clone()));
            let caught_up = tokio::select! {
                reached = progress.wait_for(|p| p.all_partitions && (p.caught_up || p.behind <= switch_lag)) => reached.is_ok(),
                () = generation_shutdown.cancelled() => false,
            };
            // The generation nobody will serve: the old one after a switch,
            // else the rebuild's own — unless the switch's outcome is unknown.
            let mut unused = Some(to);
            if caught_up && !generation_shutdown.is_cancelled() {
                match store.switch_generation(from, to).await {
                    Ok(true) => {
                        tracing::info!(from, to, "switched to the rebuilt generation");
                        unused = Some(from);
                    }
                    Ok(false) => tracing::warn!(
                        from,
                        to,
                        "the generation changed during the rebuild; abandoning it"
                    ),
                    Err(err) => {
                        tracing::error!(error = %err, "switching generations failed");
                        unused = None;
                    }
                }
            }
            let shutting_down = generation_shutdown.is_cancelled();
            generation_shutdown.cancel();
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(err)) => tracing::error!(error = %err, to, "rebuild failed"),
                Err(err) => tracing::error!(error = %err, to, "rebuild panicked"),
            }
            if let Some(unused) = unused.filter(|_| !shutting_down) {
                tokio::select! {
                    () = delete_generation(&store, unused) => {}
                    // What is left is harmless: unused keys, never served.
                    () = shutdown.cancelled() => tracing::warn!(
                        generation = unused,
                        "shutting down before the unused generation was deleted; its keys remain"
                    ),
                }
            }
            locked.cancel();
            if keep_lock.await.is_err() {
                tracing::warn!(to, "the rebuild lock's renewal panicked");
            }
            if let Err(err) = store.unlock_rebuild(to).await {
                tracing::warn!(error = %err, to, "cannot release the rebuild lock; it expires");
            }
        });
        Ok((from, to))
    }
}

/// Renews the lock of the rebuild into `generation` until `shutdown`.
async fn keep_lock(store: Store, generation: u64, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(LOCK_RENEWAL) => {}
        }
        match store.renew_rebuild_lock(generation, LOCK_TTL).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                generation,
                "the rebuild lock expired; another rebuild may start"
            ),
            Err(err) => tracing::warn!(error = %err, generation, "cannot renew the rebuild lock"),
        }
    }
}

/// Deletes a generation nobody serves any more, after the grace period; a
/// failure only leaves its keys behind (logged), never affects serving.
async fn delete_generation(store: &Store, generation: u64) {
    tokio::time::sleep(DELETE_GRACE).await;
    let started = std::time::Instant::now();
    match store.delete_generation(generation, DELETE_BATCH).await {
        Ok(keys) => tracing::info!(
            generation,
            keys,
            elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "deleted an unused generation"
        ),
        Err(err) => {
            tracing::error!(error = %err, generation, "deleting an unused generation failed; its keys remain")
        }
    }
}
