//! The Prometheus series of the exactly-once loops (`eventbank_txn_*`), one
//! set per process, told apart by a `loop` label.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};

use crate::http::{Labels, MetricsRegistry, labels};

crate::metric_set! {
    /// The series of every transactional loop of a process, each loop's
    /// labelled with its name.
    struct LoopSeries {
        records: Family<Labels, Counter> =>
            "txn_records",
            "Input records committed by the loop";
        produced: Family<Labels, Counter> =>
            "txn_records_produced",
            "Records produced by the loop's committed transactions (outputs and dead letters)";
        dead_letters: Family<Labels, Counter> =>
            "txn_dead_letters",
            "Records sent to a dead-letter topic";
        commits: Family<Labels, Counter> =>
            "txn_commits",
            "Transactions committed";
        aborts: Family<Labels, Counter> =>
            "txn_aborts",
            "Transactions aborted (the batch is re-read)";
        assigned: Family<Labels, Gauge> =>
            "txn_assigned_partitions",
            "Input partitions owned by this instance";
        stalled: Family<Labels, Gauge> =>
            "txn_stalled",
            "1 while the loop cannot commit (several transactions in a row failed)";
        commit_retries: Family<Labels, Counter> =>
            "txn_commit_retries",
            "Commit calls that timed out with the outcome still open, and were repeated";
        undecided: Family<Labels, Counter> =>
            "txn_undecided",
            "Commits whose outcome stayed unknown: settled by a new producer, then every owned partition reloaded";
        loop_restarts: Family<Labels, Counter> =>
            "txn_loop_restarts",
            "Times the loop failed on a transient error (a broker away, say) and was started again in place";
        lag: Family<Labels, Gauge> =>
            "txn_lag",
            "Offsets between the loop's position and the end (last stable offset) of each owned partition";
        lag_seconds: Family<Labels, Gauge<f64, AtomicU64>> =>
            "txn_lag_seconds",
            "How long the partition's unread records have waited (0 when caught up; an estimate: \
             the lesser of the last consumed record's age and how long the partition has been behind)";
        commit_seconds: Family<Labels, Histogram> =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.002, 2.0, 12))) =>
            "txn_commit_seconds",
            "Time to commit one batch's transaction";
        phase_seconds: Family<Labels, Histogram> =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.000_25, 2.0, 14))) =>
            "txn_phase_seconds",
            "Time of each step of a batch's transaction: handle, deliver, offsets, commit";
    }
}

/// What an operator needs to see of a transactional loop.
#[derive(Debug, Clone)]
pub struct LoopMetrics {
    /// `loop="<name>"`, on every series of this loop.
    labels: Labels,
    series: LoopSeries,
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
        Self {
            labels: labels(&[("loop", name)]),
            // One set of series per registry: a service with two loops (the
            // saga) would otherwise register every name twice.
            series: registry.shared(LoopSeries::register),
        }
    }

    /// A batch's transaction committed: `records` consumed, `produced`
    /// records written, of which `dead_letters` dead letters.
    pub(super) fn committed(
        &self,
        records: usize,
        produced: usize,
        dead_letters: usize,
        seconds: f64,
    ) {
        self.series
            .records
            .get_or_create(&self.labels)
            .inc_by(records as u64);
        self.produced(produced);
        self.series
            .dead_letters
            .get_or_create(&self.labels)
            .inc_by(dead_letters as u64);
        self.series.commits.get_or_create(&self.labels).inc();
        self.series
            .commit_seconds
            .get_or_create(&self.labels)
            .observe(seconds);
    }

    /// Records written by a committed transaction without input (a tick's).
    pub(super) fn produced(&self, count: usize) {
        self.series
            .produced
            .get_or_create(&self.labels)
            .inc_by(count as u64);
    }

    fn partition_labels(&self, topic: &str, partition: i32) -> Labels {
        let mut labels = self.labels.clone();
        labels.push(("topic".to_owned(), topic.to_owned()));
        labels.push(("partition".to_owned(), partition.to_string()));
        labels
    }

    /// An owned partition measured: `lag` offsets behind, its unread records
    /// waiting for `waited`.
    pub(super) fn lag(&self, topic: &str, partition: i32, lag: i64, waited: Duration) {
        let labels = self.partition_labels(topic, partition);
        self.series.lag.get_or_create(&labels).set(lag);
        self.series
            .lag_seconds
            .get_or_create(&labels)
            .set(waited.as_secs_f64());
    }

    /// A partition no longer owned leaves the page (its new owner reports it).
    pub(super) fn forget_lag(&self, topic: &str, partition: i32) {
        let labels = self.partition_labels(topic, partition);
        self.series.lag.remove(&labels);
        self.series.lag_seconds.remove(&labels);
    }

    pub(super) fn phase(&self, phase: Phase, seconds: f64) {
        let mut labels = self.labels.clone();
        labels.push(("phase".to_owned(), phase.label().to_owned()));
        self.series
            .phase_seconds
            .get_or_create(&labels)
            .observe(seconds);
    }

    pub(super) fn aborted(&self) {
        self.series.aborts.get_or_create(&self.labels).inc();
    }

    pub(super) fn commit_retried(&self) {
        self.series.commit_retries.get_or_create(&self.labels).inc();
    }

    pub(super) fn undecided(&self) {
        self.series.undecided.get_or_create(&self.labels).inc();
    }

    pub(super) fn loop_restarted(&self) {
        self.series.loop_restarts.get_or_create(&self.labels).inc();
    }

    pub(super) fn set_stalled(&self, stalled: bool) {
        self.series
            .stalled
            .get_or_create(&self.labels)
            .set(i64::from(stalled));
    }

    pub(super) fn set_assigned(&self, count: usize) {
        self.series
            .assigned
            .get_or_create(&self.labels)
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_loops_of_one_service_share_one_family_per_name() {
        let registry = MetricsRegistry::new("svc", "1");
        let router = LoopMetrics::register(&registry, "router");
        let saga = LoopMetrics::register(&registry, "saga");
        router.committed(2, 4, 0, 0.01);
        saga.committed(3, 1, 1, 0.01);
        saga.lag("inbox", 2, 7, Duration::from_millis(1500));
        saga.lag("inbox", 3, 1, Duration::ZERO);
        saga.forget_lag("inbox", 3);
        let page = registry.encode();
        assert_eq!(
            page.matches("# HELP eventbank_txn_records ").count(),
            1,
            "{page}"
        );
        assert!(
            page.contains("eventbank_txn_records_total{loop=\"router\"} 2"),
            "{page}"
        );
        assert!(
            page.contains("eventbank_txn_records_total{loop=\"saga\"} 3"),
            "{page}"
        );
        assert!(
            page.contains("eventbank_txn_records_produced_total{loop=\"router\"} 4"),
            "{page}"
        );
        assert!(
            page.contains("eventbank_txn_lag{loop=\"saga\",topic=\"inbox\",partition=\"2\"} 7"),
            "{page}"
        );
        assert!(
            page.contains(
                "eventbank_txn_lag_seconds{loop=\"saga\",topic=\"inbox\",partition=\"2\"} 1.5"
            ),
            "{page}"
        );
        assert!(!page.contains("partition=\"3\""), "{page}");
    }
}
