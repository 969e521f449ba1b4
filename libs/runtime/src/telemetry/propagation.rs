//! W3C trace context across hops: injected into the headers of every record
//! produced and every request sent, extracted from every record consumed and
//! request served. The global propagator is a no-op unless tracing is on, so
//! with tracing off nothing is added to any record.

use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, Injector};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::kafka::OwnedRecord;

/// Record headers, as [`OwnedRecord`] and [`OutputRecord`](crate::kafka::OutputRecord) hold them.
pub type Headers = Vec<(String, Vec<u8>)>;

struct HeaderWriter<'a>(&'a mut Headers);

impl Injector for HeaderWriter<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.retain(|(name, _)| name != key);
        self.0.push((key.to_owned(), value.into_bytes()));
    }
}

struct HeaderReader<'a>(&'a [(String, Vec<u8>)]);

impl Extractor for HeaderReader<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(name, _)| name == key)
            .and_then(|(_, value)| std::str::from_utf8(value).ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(name, _)| name.as_str()).collect()
    }
}

/// Puts the current span's trace context into `headers` (replacing any
/// there), so whoever consumes the record continues this trace.
pub fn inject_current(headers: &mut Headers) {
    if !super::enabled() {
        return;
    }
    let context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut HeaderWriter(headers));
    });
}

/// The trace context a consumed record carries (empty if none).
pub fn record_context(record: &OwnedRecord) -> Context {
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderReader(&record.headers))
    })
}

/// Makes `span` a child of the trace `record` carries, when tracing is on.
pub fn continue_record_trace(span: &tracing::Span, record: &OwnedRecord) {
    if super::enabled() {
        let _ = span.set_parent(record_context(record));
    }
}

struct HttpReader<'a>(&'a axum::http::HeaderMap);

impl Extractor for HttpReader<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(axum::http::HeaderName::as_str).collect()
    }
}

/// The trace context of an incoming HTTP request (empty if none).
pub fn request_context(headers: &axum::http::HeaderMap) -> Context {
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HttpReader(headers))
    })
}

#[cfg(test)]
mod tests {
    use opentelemetry::propagation::TextMapPropagator;
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
    };
    use opentelemetry_sdk::propagation::TraceContextPropagator;

    use super::*;

    #[test]
    fn a_context_written_into_record_headers_reads_back_the_same() {
        let sent = SpanContext::new(
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        );
        let propagator = TraceContextPropagator::new();
        let mut headers: Headers = vec![("traceparent".into(), b"stale".to_vec())];
        propagator.inject_context(
            &Context::new().with_remote_span_context(sent.clone()),
            &mut HeaderWriter(&mut headers),
        );
        assert_eq!(
            headers
                .iter()
                .filter(|(name, _)| name == "traceparent")
                .count(),
            1,
            "replaced, not added"
        );
        let read = propagator.extract(&HeaderReader(&headers));
        assert_eq!(read.span().span_context().trace_id(), sent.trace_id());
        assert_eq!(read.span().span_context().span_id(), sent.span_id());
    }
}
