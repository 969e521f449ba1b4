//! Configuration of audit-log: defaults here, then the optional TOML file, then
//! `EVENTBANK_*` environment variables.

use eventbank_runtime::http::HttpSettings;
use eventbank_runtime::kafka::KafkaSettings;
use eventbank_runtime::service::default_instance;
use eventbank_runtime::telemetry::TelemetrySettings;
use eventbank_runtime::{ConfigError, Validate};
use serde::{Deserialize, Serialize};

/// Default HTTP port of audit-log (DESIGN.md).
pub const DEFAULT_PORT: u16 = 8083;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Stable name of this instance (the pod name on Kubernetes).
    pub instance: String,
    pub http: HttpSettings,
    pub kafka: KafkaSettings,
    pub telemetry: TelemetrySettings,
    pub postgres: PostgresSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            instance: default_instance(),
            http: HttpSettings::on_port(DEFAULT_PORT),
            kafka: KafkaSettings::default(),
            telemetry: TelemetrySettings::default(),
            postgres: PostgresSettings::default(),
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
        if !self.postgres.url.starts_with("postgres://")
            && !self.postgres.url.starts_with("postgresql://")
        {
            return Err(ConfigError::invalid(
                "postgres.url",
                "must start with postgres:// or postgresql://",
            ));
        }
        Ok(())
    }
}

/// Where the audit trail lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PostgresSettings {
    pub url: String,
    /// Schema holding the audit tables; tests use one schema each.
    pub schema: String,
}

impl Default for PostgresSettings {
    fn default() -> Self {
        Self {
            url: "postgres://eventbank@127.0.0.1:5432/eventbank".to_owned(),
            schema: "audit".to_owned(),
        }
    }
}
