//! The span of one consumed record: a child of the trace the record carries,
//! named and attributed by OpenTelemetry's messaging conventions. Only made
//! when traces are exported; otherwise a disabled span that costs nothing.

use opentelemetry::trace::TraceContextExt;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::OwnedRecord;
use crate::telemetry::{self, propagation::continue_record_trace};

/// The span of processing `record` as consumer group `group`.
pub fn consume_span(record: &OwnedRecord, group: &str) -> Span {
    if !telemetry::enabled() {
        return Span::none();
    }
    let span = tracing::info_span!(
        "process record",
        otel.name = format!("process {}", record.topic),
        otel.kind = "consumer",
        messaging.system = "kafka",
        messaging.operation.type = "process",
        messaging.operation.name = "process",
        messaging.destination.name = %record.topic,
        messaging.destination.partition.id = %record.partition,
        messaging.kafka.offset = record.offset,
        messaging.consumer.group.name = %group,
    );
    continue_record_trace(&span, record);
    span
}

/// The span of one batch's work (a transaction, a sink write): it serves
/// many traces at once, so it is a root of its own, linked to the span of
/// every record in it ([`link_record`]).
pub fn batch_span(consumer: &str, records: usize) -> Span {
    if !telemetry::enabled() {
        return Span::none();
    }
    tracing::info_span!(
        "process batch",
        otel.name = format!("{consumer} batch"),
        otel.kind = "consumer",
        messaging.system = "kafka",
        messaging.operation.type = "process",
        messaging.batch.message_count = records,
    )
}

/// Links `batch` to a record's span (both made by this module).
pub fn link_record(batch: &Span, record: &Span) {
    if telemetry::enabled() {
        let context = record.context();
        batch.add_link(context.span().span_context().clone());
    }
}
