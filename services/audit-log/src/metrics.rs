//! What an operator needs to see of the audit consumer.

use std::sync::atomic::AtomicU64;

use eventbank_runtime::http::{Labels, labels};
use eventbank_runtime::kafka::sink::PartitionLag;
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
        lag_seconds: Family<Labels, Gauge<f64, AtomicU64>> =>
            "audit_lag_seconds",
            "How long the partition's unrecorded records have waited (0 when caught up; an estimate: \
             the lesser of the last recorded record's age and how long the partition has been behind)";
        chains: Gauge =>
            "audit_chains",
            "Hash chains (one per account or transfer stream) in the audit trail";
        chain_length: Gauge =>
            "audit_chain_length",
            "Records linked into the audit trail's hash chains, all chains together";
        verify_runs: Family<Labels, Counter> =>
            "audit_verify_runs",
            "Chain verifications, by scope (all, stream) and result (ok, broken, error)";
        chain_broken: Gauge =>
            "audit_chain_broken",
            "1 if the last verification of every chain found a broken link, else 0";
        last_verified: Gauge =>
            "audit_last_verified_timestamp_seconds",
            "When every chain was last verified intact (Unix seconds; 0: not yet by this instance)";
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

    pub fn lag(&self, measured: &PartitionLag) {
        let labels = labels(&[
            ("topic", &measured.topic),
            ("partition", &measured.partition.to_string()),
        ]);
        self.lag.get_or_create(&labels).set(measured.lag);
        self.lag_seconds
            .get_or_create(&labels)
            .set(measured.waited.as_secs_f64());
    }
}

impl AuditMetrics {
    pub fn chain_extent(&self, chains: i64, records: i64) {
        self.chains.set(chains);
        self.chain_length.set(records);
    }

    /// A verification ended: `Some(intact)` if it ran to the end, `None` if it
    /// failed (database away); `whole` if it covered every chain.
    pub fn verified(&self, whole: bool, intact: Option<bool>, now_unix: i64) {
        let result = match intact {
            Some(true) => "ok",
            Some(false) => "broken",
            None => "error",
        };
        let scope = if whole { "all" } else { "stream" };
        self.verify_runs
            .get_or_create(&labels(&[("scope", scope), ("result", result)]))
            .inc();
        if let (true, Some(intact)) = (whole, intact) {
            self.chain_broken.set(i64::from(!intact));
            if intact {
                self.last_verified.set(now_unix);
            }
        }
    }
}
