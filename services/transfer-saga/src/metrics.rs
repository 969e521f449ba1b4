//! What an operator needs to see of the saga: how many transfers are in
//! flight and for how long, and how they end.

use eventbank_runtime::http::{Labels, labels};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

eventbank_runtime::metric_set! {
    pub struct SagaMetrics {
        pending: Gauge =>
            "saga_pending_transfers",
            "Transfers this instance owns that are neither completed nor failed";
        oldest_pending_seconds: Gauge =>
            "saga_oldest_pending_seconds",
            "Age of the oldest pending transfer this instance owns (since its debit)";
        finished: Gauge =>
            "saga_finished_transfers",
            "Finished transfers this instance still remembers (until saga.finished_retention_secs)";
        started: Counter =>
            "saga_transfers_started",
            "Transfers whose debit the saga has acted on";
        ended: Family<Labels, Counter> =>
            "saga_transfers_ended",
            "Transfers completed or failed, by outcome and failure reason";
        retries: Counter =>
            "saga_retries",
            "Pending commands issued again after no progress";
        anomalies: Counter =>
            "saga_anomalies",
            "Inbox records contradicting their saga's state (dead-lettered)";
    }
}

/// How a committed transition changed the count of transfers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Started,
    Completed,
    Failed(&'static str),
    Retried,
}

impl SagaMetrics {
    pub fn committed(&self, outcome: Outcome) {
        match outcome {
            Outcome::Started => {
                self.started.inc();
            }
            Outcome::Completed => {
                self.ended_with("completed", "");
            }
            Outcome::Failed(reason) => {
                self.ended_with("failed", reason);
            }
            Outcome::Retried => {
                self.retries.inc();
            }
        }
    }

    fn ended_with(&self, status: &str, reason: &str) {
        self.ended
            .get_or_create(&labels(&[("status", status), ("reason", reason)]))
            .inc();
    }

    pub fn anomaly(&self) {
        self.anomalies.inc();
    }

    pub fn set_pending(&self, count: usize, oldest_seconds: i64) {
        self.pending.set(i64::try_from(count).unwrap_or(i64::MAX));
        self.oldest_pending_seconds.set(oldest_seconds);
    }

    pub fn set_finished(&self, count: usize) {
        self.finished.set(i64::try_from(count).unwrap_or(i64::MAX));
    }
}
