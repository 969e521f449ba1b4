//! Logging and tracing setup: JSON lines in production (with `trace_id` and
//! `span_id` inside a traced span), pretty on a terminal; OpenTelemetry
//! traces exported over OTLP when an endpoint is configured ([`otel`]), and
//! W3C trace context carried across every HTTP and Kafka hop
//! ([`propagation`]).
//!
//! With no endpoint there is no exporter, no OpenTelemetry layer, and the
//! per-record spans are not even created ([`enabled`]): tracing costs nothing.

mod json_log;
pub mod otel;
pub mod propagation;

use std::sync::atomic::{AtomicBool, Ordering};

use std::io::IsTerminal;

use serde::{Deserialize, Serialize};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::ConfigError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Pretty when stdout is a terminal, JSON otherwise (containers, CI).
    #[default]
    Auto,
    Json,
    Pretty,
}

crate::settings_section! {
    pub struct TelemetrySettings {
        pub log_format: LogFormat = LogFormat::Auto,
        /// An `EnvFilter` directive, e.g. `info,rdkafka=warn`.
        pub log_filter: String = "info".to_owned(),
        /// OTLP/HTTP endpoint for traces (e.g. `http://otel-collector:4318`);
        /// when unset, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
        /// `OTEL_EXPORTER_OTLP_ENDPOINT`; when none is set, no export.
        pub otlp_endpoint: Option<String> = None,
    }
}

impl TelemetrySettings {
    pub fn validate(&self) -> Result<(), ConfigError> {
        EnvFilter::try_new(&self.log_filter)
            .map(drop)
            .map_err(|err| ConfigError::invalid("telemetry.log_filter", err.to_string()))
    }
}

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether traces are exported by this process: spans that exist only for
/// the trace (one per consumed record) are created only then.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// What [`init`] set up; dropping it flushes the spans not yet exported.
#[derive(Debug, Default)]
pub struct Telemetry {
    tracer: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(tracer) = self.tracer.take()
            && let Err(err) = tracer.shutdown()
        {
            eprintln!("flushing traces failed: {err}");
        }
    }
}

/// Installs the global subscriber for `service`. A second call (tests
/// starting several services in one process) keeps the first subscriber.
pub fn init(settings: &TelemetrySettings, service: &str) -> Telemetry {
    let filter =
        EnvFilter::try_new(&settings.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match settings.log_format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stdout().is_terminal(),
    };
    let tracer = otel::endpoint(settings).and_then(|endpoint| {
        otel::tracer_provider(endpoint.as_deref(), service)
            .inspect_err(|err| eprintln!("OpenTelemetry export is off: {err}"))
            .ok()
    });
    let layer = tracer
        .as_ref()
        .map(|provider| otel::layer(provider, service));
    let registry = tracing_subscriber::registry().with(filter).with(layer);
    let installed = if json {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .map_event_format(json_log::WithTraceIds),
            )
            .try_init()
    } else {
        registry.with(tracing_subscriber::fmt::layer()).try_init()
    };
    if installed.is_ok() && tracer.is_some() {
        otel::install_propagator();
        ENABLED.store(true, Ordering::Relaxed);
    }
    Telemetry {
        tracer: tracer.filter(|_| installed.is_ok()),
    }
}
