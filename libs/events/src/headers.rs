//! Kafka record headers the services set, other than the dead-letter ones
//! ([`crate::dead_letter`]). Named here, beside the records, so the service
//! that writes a header, the one that reads it and the AsyncAPI document of
//! the topics use one spelling.
//!
//! Header values are UTF-8 text. No header is needed to decode a record's
//! value: keys, ids and versions all travel in the key and the JSON.

/// W3C trace context (`version-trace_id-parent_id-flags`), added to every
/// record produced while tracing is on, so the consumer continues the trace.
pub const TRACEPARENT: &str = "traceparent";
/// W3C vendor trace state, alongside [`TRACEPARENT`] when there is any.
pub const TRACESTATE: &str = "tracestate";

/// On `transfer-saga-inbox`: the [`WireRecord::KIND`](crate::WireRecord::KIND)
/// of the copied record (`account-event` or `command-result`), since the
/// inbox holds copies of two kinds of record.
pub const INBOX_KIND: &str = "eventbank-inbox-kind";
/// On `transfer-saga-inbox`: where the copy came from,
/// `<topic>/<partition>/<offset>`.
pub const INBOX_SOURCE: &str = "eventbank-inbox-source";
