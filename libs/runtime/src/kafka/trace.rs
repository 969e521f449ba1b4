//! The span of one consumed record: a child of the trace the record carries,
//! named and attributed by OpenTelemetry's messaging conventions. Only made
//! when traces are exported; otherwise a disabled span that costs nothing.

use tracing::Span;

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
