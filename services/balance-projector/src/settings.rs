//! Configuration of balance-projector: defaults here, then the optional TOML file, then
//! `EVENTBANK_*` environment variables.

use eventbank_runtime::http::HttpSettings;
use eventbank_runtime::kafka::KafkaSettings;
use eventbank_runtime::service::default_instance;
use eventbank_runtime::telemetry::TelemetrySettings;
use eventbank_runtime::{ConfigError, Validate};
use serde::{Deserialize, Serialize};

/// Default HTTP port of balance-projector (DESIGN.md).
pub const DEFAULT_PORT: u16 = 8081;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Stable name of this instance (the pod name on Kubernetes).
    pub instance: String,
    pub http: HttpSettings,
    pub kafka: KafkaSettings,
    pub telemetry: TelemetrySettings,
    pub redis: RedisSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            instance: default_instance(),
            http: HttpSettings::on_port(DEFAULT_PORT),
            kafka: KafkaSettings::default(),
            telemetry: TelemetrySettings::default(),
            redis: RedisSettings::default(),
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
        if !self.redis.url.starts_with("redis://") && !self.redis.url.starts_with("rediss://") {
            return Err(ConfigError::invalid(
                "redis.url",
                "must start with redis:// or rediss://",
            ));
        }
        Ok(())
    }
}

/// Where the read model lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisSettings {
    pub url: String,
    /// Prepended to every key, so several deployments (or tests) share one Redis.
    pub key_prefix: String,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            url: "redis://127.0.0.1:6379".to_owned(),
            key_prefix: "eventbank:".to_owned(),
        }
    }
}
