//! What an operator needs to see of the audit consumer.

use eventbank_runtime::http::{Labels, labels};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

eventbank_runtime::metric_set! {
    pub struct AuditMetrics {
        records: Family<Labels, Counter> =>
            "audit_records",
            "Records appended to the audit trail, by source topic";
        duplicates: Counter =>
            "audit_duplicates",
            "Records not appended because their event id was already recorded";
        skipped: Family<Labels, Counter> =>
            "audit_skipped",
            "Records with nothing to audit (accepted command results), by topic";
        dead_letters: Family<Labels, Counter> =>
            "audit_dead_letters",
            "Undecodable records sent to a dead-letter topic, by source topic";
        batches: Counter =>
            "audit_batches",
            "Database transactions committed by the audit consumer";
        lag: Family<Labels, Gauge> =>
            "audit_lag",
            "Offsets between what is recorded and the end of the partition";
        lost: Family<Labels, Counter> =>
            "audit_retention_lost_offsets",
            "Source offsets deleted by retention before they were read (an upper bound: markers hold offsets too), by topic";
    }
}

impl AuditMetrics {
    pub fn lost_to_retention(&self, topic: &str, offsets: u64) {
        self.lost.get_or_create(&Self::topic(topic)).inc_by(offsets);
    }

    fn topic(topic: &str) -> Labels {
        labels(&[("topic", topic)])
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
            .get_or_create(&labels(&[
                ("topic", topic),
                ("partition", &partition.to_string()),
            ]))
            .set(lag);
    }
}
