//! Configuration of balance-projector: defaults here, then the optional TOML file, then
//! `EVENTBANK_*` environment variables.

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
        checks::url_scheme("redis.url", &self.redis.url, &["redis://", "rediss://"])?;
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
        pub url: String = "redis://127.0.0.1:6379".to_owned(),
        /// Prepended to every key, so several deployments (or tests) share one Redis.
        pub key_prefix: String = "eventbank:".to_owned(),
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
    }
}
