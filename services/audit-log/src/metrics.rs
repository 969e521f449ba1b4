//! What an operator needs to see of the audit consumer.

use eventbank_runtime::http::MetricsRegistry;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

type Labels = Vec<(String, String)>;

#[derive(Debug, Clone, Default)]
pub struct AuditMetrics {
    records: Family<Labels, Counter>,
    duplicates: Counter,
    skipped: Family<Labels, Counter>,
    dead_letters: Family<Labels, Counter>,
    batches: Counter,
    lag: Family<Labels, Gauge>,
    lost: Family<Labels, Counter>,
}

impl AuditMetrics {
    pub fn register(registry: &MetricsRegistry) -> Self {
        let metrics = Self::default();
        registry.register(
            "audit_records",
            "Records appended to the audit trail, by source topic",
            metrics.records.clone(),
        );
        registry.register(
            "audit_duplicates",
            "Records not appended because their event id was already recorded",
            metrics.duplicates.clone(),
        );
        registry.register(
            "audit_skipped",
            "Records with nothing to audit (accepted command results), by topic",
            metrics.skipped.clone(),
        );
        registry.register(
            "audit_dead_letters",
            "Undecodable records sent to a dead-letter topic, by source topic",
            metrics.dead_letters.clone(),
        );
        registry.register(
            "audit_batches",
            "Database transactions committed by the audit consumer",
            metrics.batches.clone(),
        );
        registry.register(
            "audit_lag",
            "Offsets between what is recorded and the end of the partition",
            metrics.lag.clone(),
        );
        registry.register(
            "audit_retention_lost_offsets",
            "Source offsets deleted by retention before they were read (an upper bound: markers hold offsets too), by topic",
            metrics.lost.clone(),
        );
        metrics
    }

    pub fn lost_to_retention(&self, topic: &str, offsets: u64) {
        self.lost.get_or_create(&Self::topic(topic)).inc_by(offsets);
    }

    fn topic(topic: &str) -> Labels {
        vec![("topic".to_owned(), topic.to_owned())]
    }

    pub fn recorded(&self, topic: &str, count: u64) {
        self.records
            .get_or_create(&Self::topic(topic))
            .inc_by(count);
    }

    pub fn duplicates(&self, count: u64) {
        self.duplicates.inc_by(count);
    }

    pub fn skipped(&self, topic: &str) {
        self.skipped.get_or_create(&Self::topic(topic)).inc();
    }

    pub fn dead_letter(&self, topic: &str) {
        self.dead_letters.get_or_create(&Self::topic(topic)).inc();
    }

    pub fn batch(&self) {
        self.batches.inc();
    }

    pub fn lag(&self, topic: &str, partition: i32, lag: i64) {
        self.lag
            .get_or_create(&vec![
                ("topic".to_owned(), topic.to_owned()),
                ("partition".to_owned(), partition.to_string()),
            ])
            .set(lag);
    }
}
