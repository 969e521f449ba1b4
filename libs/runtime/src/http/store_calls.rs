//! `eventbank_store_call_seconds{store,operation,outcome}`: the latency of
//! every call a service makes to its store (Redis for the projector,
//! PostgreSQL for the audit log), so a slow view or a slow audit append can
//! be pinned on the store rather than on Kafka.

use std::future::Future;
use std::time::Instant;

use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};

use super::{Labels, MetricsRegistry, labels};

crate::metric_set! {
    struct StoreCallSeries {
        seconds: Family<Labels, Histogram> =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.000_25, 2.0, 14))) =>
            "store_call_seconds",
            "Calls to the service's store (redis, postgres), by operation and outcome (ok, error), with their latency";
    }
}

/// Times the calls to one store.
#[derive(Debug, Clone)]
pub struct StoreCalls {
    store: &'static str,
    series: StoreCallSeries,
}

impl StoreCalls {
    /// The calls to `store` (`redis`, `postgres`), on `registry`'s page.
    pub fn register(registry: &MetricsRegistry, store: &'static str) -> Self {
        Self {
            store,
            series: registry.shared(StoreCallSeries::register),
        }
    }

    /// Calls recorded nowhere (a store used outside a service: tools, tests).
    pub fn unregistered(store: &'static str) -> Self {
        Self {
            store,
            series: StoreCallSeries::unregistered(),
        }
    }

    /// Runs `call`, recording how long it took and whether it failed.
    pub async fn time<T, E>(
        &self,
        operation: &'static str,
        call: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let started = Instant::now();
        let result = call.await;
        let outcome = if result.is_ok() { "ok" } else { "error" };
        self.series
            .seconds
            .get_or_create(&labels(&[
                ("store", self.store),
                ("operation", operation),
                ("outcome", outcome),
            ]))
            .observe(started.elapsed().as_secs_f64());
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_call_is_timed_under_its_operation_and_outcome() {
        let registry = MetricsRegistry::new("svc", "1");
        let calls = StoreCalls::register(&registry, "redis");
        let again = StoreCalls::register(&registry, "redis");
        calls.time("read", async { Ok::<_, ()>(1) }).await.unwrap();
        again.time("read", async { Ok::<_, ()>(2) }).await.unwrap();
        calls
            .time("write", async { Err::<(), _>("down") })
            .await
            .unwrap_err();
        let page = registry.encode();
        for line in [
            "eventbank_store_call_seconds_count{store=\"redis\",operation=\"read\",outcome=\"ok\"} 2",
            "eventbank_store_call_seconds_count{store=\"redis\",operation=\"write\",outcome=\"error\"} 1",
        ] {
            assert!(page.contains(line), "{line} in {page}");
        }
    }
}
