//! OpenTelemetry trace export over OTLP/HTTP (protobuf), batched on the
//! SDK's own thread, configured by the standard variables or the settings.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::registry::LookupSpan;

use super::TelemetrySettings;

/// Whether to export, and where: `Some(Some(url))` from the settings,
/// `Some(None)` when only the standard variables say (the exporter reads
/// them itself), `None` when nothing is configured.
pub fn endpoint(settings: &TelemetrySettings) -> Option<Option<String>> {
    if let Some(url) = settings
        .otlp_endpoint
        .as_deref()
        .filter(|url| !url.is_empty())
    {
        return Some(Some(url.to_owned()));
    }
    let from_env = [
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ]
    .iter()
    .any(|name| std::env::var(name).is_ok_and(|value| !value.is_empty()));
    from_env.then_some(None)
}

/// The tracer provider exporting to `endpoint` (the base URL; `/v1/traces`
/// is appended) or where the standard variables say. The service name is
/// `OTEL_SERVICE_NAME` when set, else `service`.
pub fn tracer_provider(
    endpoint: Option<&str>,
    service: &str,
) -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    let mut exporter = SpanExporter::builder().with_http();
    if let Some(base) = endpoint {
        exporter = exporter.with_endpoint(format!("{}/v1/traces", base.trim_end_matches('/')));
    }
    let mut resource = Resource::builder();
    if std::env::var("OTEL_SERVICE_NAME").map_or(true, |name| name.is_empty()) {
        resource = resource.with_service_name(service.to_owned());
    }
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter.build()?)
        .with_resource(resource.build())
        .build())
}

/// The `tracing` layer turning spans into OpenTelemetry spans.
pub fn layer<S>(
    provider: &SdkTracerProvider,
    service: &str,
) -> tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::Tracer>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
{
    tracing_opentelemetry::layer().with_tracer(provider.tracer(service.to_owned()))
}

/// W3C trace context (`traceparent`, `tracestate`) for every hop.
pub fn install_propagator() {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
}
