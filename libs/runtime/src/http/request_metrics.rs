//! `eventbank_http_request_duration_seconds{method,route,status}` on every
//! service: one latency histogram per route template (its `_count` is the
//! number of requests), recorded by a layer around every route.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};

use super::{Labels, labels};

crate::metric_set! {
    /// What every HTTP server of the system records.
    pub struct HttpMetrics {
        duration: Family<Labels, Histogram> =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.000_5, 2.0, 14))) =>
            "http_request_duration_seconds",
            "HTTP requests served, by method, route template and status, with their latency";
    }
}

impl HttpMetrics {
    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.duration
            .get_or_create(&labels(&[
                ("method", method),
                ("route", route),
                ("status", &status.to_string()),
            ]))
            .observe(seconds);
    }
}

/// The layer: the route template (not the path, so ids do not make a series
/// each), `unmatched` for a path no route knows.
pub async fn record(State(metrics): State<HttpMetrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    let seconds = started.elapsed().as_secs_f64();
    metrics.observe(&method, &route, response.status().as_u16(), seconds);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_counted_under_its_route_template_and_status() {
        let (metrics, registry) = HttpMetrics::in_own_registry();
        for seconds in [0.003, 0.004] {
            metrics.observe("GET", "/accounts/{id}", 200, seconds);
        }
        let text = registry.encode();
        assert!(
            text.contains(
                "eventbank_http_request_duration_seconds_count{method=\"GET\",route=\"/accounts/{id}\",status=\"200\"} 2"
            ),
            "{text}"
        );
    }
}
