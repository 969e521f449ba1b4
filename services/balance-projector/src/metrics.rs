//! What an operator needs to see of the projector.

use eventbank_runtime::http::MetricsRegistry;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

type Labels = Vec<(String, String)>;

#[derive(Debug, Clone, Default)]
pub struct ProjectorMetrics {
    events: Family<Labels, Counter>,
    dead_letters: Family<Labels, Counter>,
    lag: Family<Labels, Gauge>,
    batches: Counter,
}

impl ProjectorMetrics {
    pub fn register(registry: &MetricsRegistry) -> Self {
        let metrics = Self::default();
        registry.register(
            "projector_events",
            "Events seen by the projector, by topic and outcome \
             (applied, skipped = already applied, gap, stalled, malformed)",
            metrics.events.clone(),
        );
        registry.register(
            "projector_dead_letters",
            "Undecodable records sent to a dead-letter topic",
            metrics.dead_letters.clone(),
        );
        registry.register(
            "projector_lag",
            "Offsets between the projector's position and the end of the partition",
            metrics.lag.clone(),
        );
        registry.register(
            "projector_batches",
            "Batches applied to Redis and committed",
            metrics.batches.clone(),
        );
        metrics
    }

    /// `count` events of `topic` had `outcome`. Called once per batch and
    /// outcome, not per event: a label set costs allocations and a lock.
    pub fn events(&self, generation: u64, topic: &str, outcome: &str, count: u64) {
        self.events
            .get_or_create(&vec![
                ("generation".to_owned(), generation.to_string()),
                ("topic".to_owned(), topic.to_owned()),
                ("outcome".to_owned(), outcome.to_owned()),
            ])
            .inc_by(count);
    }

    pub fn dead_letter(&self, topic: &str) {
        self.dead_letters
            .get_or_create(&vec![("topic".to_owned(), topic.to_owned())])
            .inc();
    }

    pub fn lag(&self, generation: u64, topic: &str, partition: i32, lag: i64) {
        self.lag
            .get_or_create(&vec![
                ("generation".to_owned(), generation.to_string()),
                ("topic".to_owned(), topic.to_owned()),
                ("partition".to_owned(), partition.to_string()),
            ])
            .set(lag);
    }

    pub fn batch(&self) {
        self.batches.inc();
    }
}
