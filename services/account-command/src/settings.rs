//! Configuration of account-command: defaults here, then the optional TOML file, then
//! `EVENTBANK_*` environment variables.

use eventbank_runtime::http::HttpSettings;
use eventbank_runtime::kafka::KafkaSettings;
use eventbank_runtime::service::default_instance;
use eventbank_runtime::telemetry::TelemetrySettings;
use eventbank_runtime::{ConfigError, Validate};
use serde::{Deserialize, Serialize};

/// Default HTTP port of account-command (DESIGN.md).
pub const DEFAULT_PORT: u16 = 8080;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Stable name of this instance (the pod name on Kubernetes).
    pub instance: String,
    pub http: HttpSettings,
    pub kafka: KafkaSettings,
    pub telemetry: TelemetrySettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            instance: default_instance(),
            http: HttpSettings::on_port(DEFAULT_PORT),
            kafka: KafkaSettings::default(),
            telemetry: TelemetrySettings::default(),
        }
    }
}

impl Validate for Settings {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.instance.trim().is_empty() {
            return Err(ConfigError::invalid("instance", "is empty"));
        }
        self.kafka.validate()?;
        self.telemetry.validate()?;
        Ok(())
    }
}
