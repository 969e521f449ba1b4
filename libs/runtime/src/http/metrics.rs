//! A Prometheus registry per service instance, not process-global, so tests
//! can run several services in one process.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Metric, Registry};

use super::metric_set::labels;

/// A Prometheus registry owned by one service instance (no process-global state,
/// so tests can run several services in one process).
#[derive(Clone)]
pub struct MetricsRegistry {
    inner: Arc<Mutex<Registry>>,
    /// Metric sets registered once per registry and shared by every user
    /// (several loops of one process), by type.
    shared: Arc<Mutex<HashMap<TypeId, Box<dyn Any + Send>>>>,
}

impl std::fmt::Debug for MetricsRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsRegistry").finish_non_exhaustive()
    }
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
            shared: Arc::default(),
        }
    }

    /// The metric set of type `T` of this registry, registered by `register`
    /// the first time it is asked for. A name registered twice would put two
    /// `# HELP` lines for one family on the page, which Prometheus refuses
    /// to scrape: two loops of one service share their series this way,
    /// told apart by a label.
    pub fn shared<T: Clone + Send + 'static>(&self, register: impl FnOnce(&Self) -> T) -> T {
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(set) = shared
            .get(&TypeId::of::<T>())
            .and_then(|set| set.downcast_ref::<T>())
        {
            return set.clone();
        }
        let set = register(self);
        shared.insert(TypeId::of::<T>(), Box::new(set.clone()));
        set
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
