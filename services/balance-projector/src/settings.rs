//! Configuration of balance-projector: defaults here, then the optional TOML file, then
//! `EVENTBANK_*` environment variables.

use std::path::PathBuf;

use eventbank_runtime::secret::Secret;
use eventbank_runtime::service::CommonSettings;
use eventbank_runtime::{ConfigError, Validate, checks};

/// Default HTTP port of balance-projector (DESIGN.md).
pub const DEFAULT_PORT: u16 = 8081;

eventbank_runtime::service_settings! {
    pub struct Settings on port DEFAULT_PORT;
    pub redis: RedisSettings,
    pub projector: ProjectorSettings,
}

impl Validate for Settings {
    fn validate(&self) -> Result<(), ConfigError> {
        self.validate_common()?;
        self.redis.validate()?;
        checks::non_empty("projector.consumer_group", &self.projector.consumer_group)?;
        checks::at_least("projector.max_batch", self.projector.max_batch, 1)
    }
}

eventbank_runtime::settings_section! {
    /// How the projector consumes and how long reads wait for it.
    pub struct ProjectorSettings {
        /// Consumer group; the Kafka topic prefix is prepended.
        pub consumer_group: String = "eventbank-balance-projector".to_owned(),
        /// Most records applied to Redis in one pipelined round trip. Large, so a
        /// catch-up or rebuild meets each account several times per batch and
        /// writes it once (sorted by stream; see `Store::apply`): 5,000 applied
        /// 76,000 events/s where 500 applied 50,000 (BENCHMARKS.md).
        pub max_batch: usize = 5_000,
        /// How long a batch waits for more records once none is buffered (0:
        /// none; a view is on a reader's path).
        pub max_batch_wait_ms: u64 = 0,
        /// How long `GET /accounts/{id}?min_version=N` waits for the view to reach N.
        pub read_wait_ms: u64 = 3_000,
        /// How often partition lag is measured.
        pub lag_interval_ms: u64 = 1_000,
        /// The serving projector joins its group as a static member named after
        /// the instance: a restarted instance resumes its partitions at once
        /// instead of waiting out its predecessor's session (45 s), in which no
        /// view moves. The price: partitions of an instance gone for good move
        /// only after its session times out. A rebuild's projector is always a
        /// dynamic member, so its partitions pass to the serving one the moment
        /// it stops.
        pub static_membership: bool = true,
    }
}

eventbank_runtime::settings_section! {
    /// Where the read model lives.
    pub struct RedisSettings {
        /// `redis://host:port` or, over TLS, `rediss://host:port`. Credentials
        /// may be in it (`rediss://user:password@host`), but `username` and
        /// `password` keep the password out of a URL kept in a ConfigMap.
        pub url: String = "redis://127.0.0.1:6379".to_owned(),
        /// Prepended to every key, so several deployments (or tests) share one Redis.
        pub key_prefix: String = "eventbank:".to_owned(),
        /// ACL user to log in as (Redis 6+); absent: `default`.
        pub username: Option<String> = None,
        pub password: Option<Secret> = None,
        /// PEM file of the CA that signed the server's certificate
        /// (`rediss://` only); absent: the system's trust store.
        pub ca_file: Option<PathBuf> = None,
    }
}

impl RedisSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        checks::url_scheme("redis.url", &self.url, &["redis://", "rediss://"])?;
        if let Some(ca_file) = &self.ca_file {
            if !self.url.starts_with("rediss://") {
                return Err(ConfigError::invalid(
                    "redis.ca_file",
                    "is set but redis.url is not rediss:// (TLS)",
                ));
            }
            checks::readable_file("redis.ca_file", ca_file)?;
        }
        if let Some(username) = &self.username {
            checks::non_empty("redis.username", username)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_nonsense_does_not() {
        let settings = Settings::default();
        settings.validate().expect("defaults validate");
        assert_eq!(settings.http.bind.port(), DEFAULT_PORT);
        assert_eq!(settings.projector.read_wait_ms, 3_000);
        let mut bad = Settings::default();
        bad.redis.url = "http://nope".into();
        assert!(bad.validate().is_err());
        let mut bad = Settings::default();
        bad.projector.max_batch = 0;
        assert!(bad.validate().is_err());
        let mut bad = Settings::default();
        bad.redis.ca_file = Some("/nonexistent/ca.pem".into());
        let err = bad.validate().expect_err("a CA file without TLS");
        assert!(err.to_string().contains("redis.ca_file"), "{err}");
        bad.redis.url = "rediss://cache:6380".into();
        let err = bad.validate().expect_err("an unreadable CA file");
        assert!(err.to_string().contains("cannot read"), "{err}");
    }

    #[test]
    fn the_redis_password_is_masked_in_the_effective_configuration() {
        let mut settings = Settings::default();
        settings.redis.url = "rediss://eventbank:in-url-secret@cache:6380".into();
        settings.redis.username = Some("eventbank".into());
        settings.redis.password = Some(Secret::new("field-secret"));
        let shown = eventbank_runtime::config::redacted(&settings).to_string();
        assert!(!shown.contains("in-url-secret"), "{shown}");
        assert!(!shown.contains("field-secret"), "{shown}");
        assert!(
            shown.contains("rediss://eventbank:***@cache:6380"),
            "{shown}"
        );
    }
}
