//! What the projector makes of each lag measurement: the lag metric, its
//! progress (watched by a rebuild) and the serving projector's readiness.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use eventbank_runtime::http::ReadinessCheck;
use eventbank_runtime::kafka::sink::{LagObserver, Lags};
use tokio::sync::watch;

use crate::metrics::ProjectorMetrics;

/// How far a projector has caught up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Every partition assigned to this projector is applied to its end.
    pub caught_up: bool,
    /// This projector is assigned every partition of both topics.
    pub all_partitions: bool,
    /// Offsets not yet applied, summed over the assigned partitions.
    pub behind: i64,
}

/// The serving projector's `/readyz` check. Ready once caught up at start;
/// it stays ready across generation switches.
#[derive(Debug, Clone)]
pub struct ServingReadiness {
    check: ReadinessCheck,
    ever: Arc<AtomicBool>,
}

impl ServingReadiness {
    pub fn new(check: ReadinessCheck) -> Self {
        Self {
            check,
            ever: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn check(&self) -> ReadinessCheck {
        self.check.clone()
    }
}

/// Publishes progress and flips readiness once every assigned partition has
/// been caught up (once; it stays ready).
#[derive(Debug)]
pub struct ProgressObserver {
    metrics: ProjectorMetrics,
    generation: u64,
    ready: Option<ServingReadiness>,
    is_ready: AtomicBool,
    progress: watch::Sender<Progress>,
}

impl ProgressObserver {
    pub fn new(
        metrics: ProjectorMetrics,
        generation: u64,
        ready: Option<ServingReadiness>,
    ) -> Self {
        Self {
            metrics,
            generation,
            ready,
            is_ready: AtomicBool::new(false),
            progress: watch::Sender::new(Progress::default()),
        }
    }

    pub fn subscribe(&self) -> watch::Receiver<Progress> {
        self.progress.subscribe()
    }
}

impl LagObserver for ProgressObserver {
    async fn observe(&self, lags: Lags) {
        for p in &lags.partitions {
            self.metrics.lag(self.generation, p);
        }
        let caught_up = lags.caught_up();
        self.progress.send_replace(Progress {
            caught_up,
            all_partitions: lags.all_partitions(),
            behind: lags.behind(),
        });
        let Some(ready) = &self.ready else { return };
        if self.is_ready.load(Ordering::SeqCst) {
            return;
        }
        if caught_up {
            self.is_ready.store(true, Ordering::SeqCst);
            ready.ever.store(true, Ordering::SeqCst);
            ready.check.set_ready();
            tracing::info!(
                generation = self.generation,
                "caught up with every assigned partition"
            );
        } else if !ready.ever.load(Ordering::SeqCst) {
            ready
                .check
                .set_not_ready(format!("catching up: {} offsets behind", lags.behind()));
        }
    }
}
