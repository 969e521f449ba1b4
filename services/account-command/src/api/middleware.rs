//! Per-request plumbing around every API route: the correlation id, a tracing
//! span and one log line (the latency metric is the runtime's, on every route).

use std::convert::Infallible;
use std::time::Instant;

use axum::extract::{FromRequestParts, MatchedPath, Request};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use eventbank_events::CorrelationId;
use tracing::Instrument;

/// A client may send its own correlation id (a UUID); it is echoed back and
/// carried by the command and everything it causes. Anything else is ignored
/// and a fresh id is used.
pub const CORRELATION_ID: HeaderName = HeaderName::from_static("x-correlation-id");

/// The request's correlation id, as an extractor.
#[derive(Debug, Clone, Copy)]
pub struct Correlation(pub CorrelationId);

impl<S: Send + Sync> FromRequestParts<S> for Correlation {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        // Set by `observe` on every route; the fallback only guards against a
        // handler mounted without it.
        Ok(parts
            .extensions
            .get::<Correlation>()
            .copied()
            .unwrap_or_else(|| Correlation(correlation_id(parts.headers.get(CORRELATION_ID)))))
    }
}

fn correlation_id(header: Option<&HeaderValue>) -> CorrelationId {
    header
        .and_then(|value| value.to_str().ok())
        .and_then(|text| CorrelationId::parse(text.trim()).ok())
        .unwrap_or_else(CorrelationId::new)
}

/// Route layer: runs inside routing, so the matched route template is known.
pub async fn observe(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let correlation = Correlation(correlation_id(request.headers().get(CORRELATION_ID)));
    request.extensions_mut().insert(correlation);
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    // When traces are exported, this span is a child of the runtime's
    // request span (which continues the caller's `traceparent`), and
    // `dispatch` puts its context on the command record.
    let span = tracing::info_span!(
        "http_request",
        method = %method,
        route = %route,
        correlation_id = %correlation.0,
    );
    let mut response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status();
    if let Ok(value) = HeaderValue::from_str(&correlation.0.to_string()) {
        response.headers_mut().insert(CORRELATION_ID, value);
    }
    span.in_scope(|| {
        let elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), elapsed_ms, "request failed");
        } else {
            tracing::info!(status = status.as_u16(), elapsed_ms, "request");
        }
    });
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uuid_header_is_used_and_anything_else_replaced() {
        let id = CorrelationId::new();
        let header = HeaderValue::from_str(&id.to_string()).unwrap();
        assert_eq!(correlation_id(Some(&header)), id);
        let junk = HeaderValue::from_static("not-a-uuid");
        assert_ne!(correlation_id(Some(&junk)), id);
        assert_eq!(
            correlation_id(Some(&junk)).as_uuid().get_version_num(),
            4,
            "a fresh id"
        );
    }
}
