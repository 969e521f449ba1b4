//! Logging setup: JSON in production, pretty on a terminal.
//!
//! OpenTelemetry export and `traceparent` propagation across Kafka hops plug in
//! here as an extra `tracing` layer; the subscriber is built as a layered registry
//! so that addition does not change any caller.

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
    }
}

impl TelemetrySettings {
    pub fn validate(&self) -> Result<(), ConfigError> {
        EnvFilter::try_new(&self.log_filter)
            .map(drop)
            .map_err(|err| ConfigError::invalid("telemetry.log_filter", err.to_string()))
    }
}

/// Installs the global subscriber. A second call (tests starting several services
/// in one process) keeps the first subscriber and returns `false`.
pub fn init(settings: &TelemetrySettings) -> bool {
    let filter =
        EnvFilter::try_new(&settings.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match settings.log_format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stdout().is_terminal(),
    };
    let registry = tracing_subscriber::registry().with(filter);
    let result = if json {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true),
            )
            .try_init()
    } else {
        registry.with(tracing_subscriber::fmt::layer()).try_init()
    };
    result.is_ok()
}
