//! A Prometheus registry per service instance, not process-global, so tests
//! can run several services in one process.

use std::sync::{Arc, Mutex, PoisonError};

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Metric, Registry};

use super::metric_set::labels;

/// A Prometheus registry owned by one service instance (no process-global state,
/// so tests can run several services in one process).
#[derive(Debug, Clone)]
pub struct MetricsRegistry {
    inner: Arc<Mutex<Registry>>,
}

impl MetricsRegistry {
    /// A registry whose metrics are prefixed `eventbank_` and which already carries
    /// `eventbank_build_info{service,version} 1`.
    pub fn new(service: &str, version: &str) -> Self {
        let mut registry = Registry::with_prefix("eventbank");
        let build_info = Family::<Vec<(String, String)>, Gauge>::default();
        build_info
            .get_or_create(&labels(&[("service", service), ("version", version)]))
            .set(1);
        registry.register("build_info", "Build information", build_info);
        Self {
            inner: Arc::new(Mutex::new(registry)),
        }
    }

    pub fn register(&self, name: &str, help: &str, metric: impl Metric) {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .register(name, help, metric);
    }

    /// The Prometheus/OpenMetrics text exposition of every registered metric.
    pub fn encode(&self) -> String {
        let registry = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = String::new();
        // Writing into a String cannot fail; an encode error would be a bug in a
        // metric's labels, and an empty scrape is the honest answer to it.
        if encode(&mut out, &registry).is_err() {
            out.clear();
        }
        out
    }
}
