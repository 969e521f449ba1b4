//! What an operator needs to see of the projector.

use std::sync::atomic::AtomicU64;

use eventbank_runtime::http::{Labels, labels};
use eventbank_runtime::kafka::sink::PartitionLag;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

eventbank_runtime::metric_set! {
    pub struct ProjectorMetrics {
        events: Family<Labels, Counter> =>
            "projector_events",
            "Events seen by the projector, by topic and outcome \
             (applied, skipped = already applied, gap, stalled, malformed)";
        dead_letters: Family<Labels, Counter> =>
            "projector_dead_letters",
            "Undecodable records sent to a dead-letter topic";
        lag: Family<Labels, Gauge> =>
            "projector_lag",
            "Offsets between the projector's position and the end of the partition";
        lag_seconds: Family<Labels, Gauge<f64, AtomicU64>> =>
            "projector_lag_seconds",
            "How long the partition's unapplied events have waited (0 when caught up; an estimate: \
             the lesser of the last applied event's age and how long the partition has been behind)";
        batches: Counter =>
            "projector_batches",
            "Batches applied to Redis and committed";
    }
}

impl ProjectorMetrics {
    /// `count` events of `topic` had `outcome`. Called once per batch and
    /// outcome, not per event: a label set costs allocations and a lock.
    pub fn events(&self, generation: u64, topic: &str, outcome: &str, count: u64) {
        self.events
            .get_or_create(&labels(&[
                ("generation", &generation.to_string()),
                ("topic", topic),
                ("outcome", outcome),
            ]))
            .inc_by(count);
    }

    pub fn dead_letter(&self, topic: &str) {
        self.dead_letters
            .get_or_create(&labels(&[("topic", topic)]))
            .inc();
    }

    pub fn lag(&self, generation: u64, measured: &PartitionLag) {
        let labels = labels(&[
            ("generation", &generation.to_string()),
            ("topic", &measured.topic),
            ("partition", &measured.partition.to_string()),
        ]);
        self.lag.get_or_create(&labels).set(measured.lag);
        self.lag_seconds
            .get_or_create(&labels)
            .set(measured.waited.as_secs_f64());
    }

    pub fn batch(&self) {
        self.batches.inc();
    }
}
