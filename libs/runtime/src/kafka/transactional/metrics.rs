use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};

use crate::http::MetricsRegistry;

type Labels = Vec<(String, String)>;

/// What an operator needs to see of a transactional loop.
#[derive(Debug, Clone)]
pub struct LoopMetrics {
    labels: Labels,
    records: Family<Labels, Counter>,
    dead_letters: Family<Labels, Counter>,
    commits: Family<Labels, Counter>,
    aborts: Family<Labels, Counter>,
    assigned: Family<Labels, Gauge>,
    stalled: Family<Labels, Gauge>,
    commit_retries: Family<Labels, Counter>,
    undecided: Family<Labels, Counter>,
    loop_restarts: Family<Labels, Counter>,
    commit_seconds: Family<Labels, Histogram>,
    phase_seconds: Family<Labels, Histogram>,
}

/// The steps of one batch's transaction, timed apart so a slow commit can be
/// pinned on one of them.
#[derive(Debug, Clone, Copy)]
pub(super) enum Phase {
    /// Deciding every record and handing its outputs to the producer.
    Handle,
    /// Until the broker has acknowledged every output.
    Deliver,
    /// `send_offsets_to_transaction` (AddOffsetsToTxn + TxnOffsetCommit).
    Offsets,
    /// `commit_transaction` (EndTxn).
    Commit,
}

impl Phase {
    fn label(self) -> &'static str {
        match self {
            Self::Handle => "handle",
            Self::Deliver => "deliver",
            Self::Offsets => "offsets",
            Self::Commit => "commit",
        }
    }
}

impl LoopMetrics {
    pub fn register(registry: &MetricsRegistry, name: &str) -> Self {
        let metrics = Self {
            labels: vec![("loop".to_owned(), name.to_owned())],
            records: Family::default(),
            dead_letters: Family::default(),
            commits: Family::default(),
            aborts: Family::default(),
            assigned: Family::default(),
            stalled: Family::default(),
            commit_retries: Family::default(),
            undecided: Family::default(),
            loop_restarts: Family::default(),
            phase_seconds: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.000_25, 2.0, 14))
            }),
            commit_seconds: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.002, 2.0, 12))
            }),
        };
        registry.register(
            "txn_records",
            "Input records committed by the loop",
            metrics.records.clone(),
        );
        registry.register(
            "txn_dead_letters",
            "Records sent to a dead-letter topic",
            metrics.dead_letters.clone(),
        );
        registry.register(
            "txn_commits",
            "Transactions committed",
            metrics.commits.clone(),
        );
        registry.register(
            "txn_aborts",
            "Transactions aborted (the batch is re-read)",
            metrics.aborts.clone(),
        );
        registry.register(
            "txn_assigned_partitions",
            "Input partitions owned by this instance",
            metrics.assigned.clone(),
        );
        registry.register(
            "txn_stalled",
            "1 while the loop cannot commit (several transactions in a row failed)",
            metrics.stalled.clone(),
        );
        registry.register(
            "txn_commit_retries",
            "Commit calls that timed out with the outcome still open, and were repeated",
            metrics.commit_retries.clone(),
        );
        registry.register(
            "txn_undecided",
            "Commits whose outcome stayed unknown: settled by a new producer, then every owned partition reloaded",
            metrics.undecided.clone(),
        );
        registry.register(
            "txn_loop_restarts",
            "Times the loop failed on a transient error (a broker away, say) and was started again in place",
            metrics.loop_restarts.clone(),
        );
        registry.register(
            "txn_commit_seconds",
            "Time to commit one batch's transaction",
            metrics.commit_seconds.clone(),
        );
        registry.register(
            "txn_phase_seconds",
            "Time of each step of a batch's transaction: handle, deliver, offsets, commit",
            metrics.phase_seconds.clone(),
        );
        metrics
    }

    pub(super) fn committed(&self, records: usize, dead_letters: usize, seconds: f64) {
        self.records
            .get_or_create(&self.labels)
            .inc_by(records as u64);
        self.dead_letters
            .get_or_create(&self.labels)
            .inc_by(dead_letters as u64);
        self.commits.get_or_create(&self.labels).inc();
        self.commit_seconds
            .get_or_create(&self.labels)
            .observe(seconds);
    }

    pub(super) fn phase(&self, phase: Phase, seconds: f64) {
        let mut labels = self.labels.clone();
        labels.push(("phase".to_owned(), phase.label().to_owned()));
        self.phase_seconds.get_or_create(&labels).observe(seconds);
    }

    pub(super) fn aborted(&self) {
        self.aborts.get_or_create(&self.labels).inc();
    }

    pub(super) fn commit_retried(&self) {
        self.commit_retries.get_or_create(&self.labels).inc();
    }

    pub(super) fn undecided(&self) {
        self.undecided.get_or_create(&self.labels).inc();
    }

    pub(super) fn loop_restarted(&self) {
        self.loop_restarts.get_or_create(&self.labels).inc();
    }

    pub(super) fn set_stalled(&self, stalled: bool) {
        self.stalled
            .get_or_create(&self.labels)
            .set(i64::from(stalled));
    }

    pub(super) fn set_assigned(&self, count: usize) {
        self.assigned
            .get_or_create(&self.labels)
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }
}
