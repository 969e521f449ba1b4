//! Configuration of account-command: defaults here, then the optional TOML file,
//! then `EVENTBANK_*` environment variables.

use std::time::Duration;

use eventbank_runtime::service::CommonSettings;
use eventbank_runtime::{ConfigError, Validate, checks};

use crate::domain::Limits;

/// Default HTTP port of account-command (DESIGN.md).
pub const DEFAULT_PORT: u16 = 8080;

eventbank_runtime::service_settings! {
    pub struct Settings on port DEFAULT_PORT;
    pub api: ApiSettings,
    pub processor: ProcessorSettings,
    pub limits: Limits,
}

eventbank_runtime::settings_section! {
    /// The HTTP command API. API and processor run in one binary by default; each
    /// can be switched off so they scale separately.
    pub struct ApiSettings {
        pub enabled: bool = true,
        /// How long a request waits for its command's result before answering 202
        /// with the URL where the result will appear.
        pub result_timeout_ms: u64 = 5_000,
        /// Request bodies above this are refused before parsing.
        pub max_body_bytes: usize = 16 * 1024,
        /// Command results kept in memory for `GET /commands/{id}` and for
        /// answering a repeated `Idempotency-Key` without a round trip.
        pub result_cache_capacity: usize = 100_000,
    }
}

eventbank_runtime::settings_section! {
    /// The exactly-once command processor (the single writer of `account-events`).
    pub struct ProcessorSettings {
        pub enabled: bool = true,
        pub consumer_group: String = "eventbank-account-processor".to_owned(),
        /// Commands per Kafka transaction at most. Batches only grow this large
        /// from a backlog (a batch takes what is buffered, without waiting), and
        /// there a transaction's fixed cost (three broker round trips) is what
        /// sets the rate: from a 200,000-command backlog 500 gave 28,587
        /// commands/s, 2,000 gave 42,184, 5,000 59,147 and 10,000 64,282
        /// (BENCHMARKS.md). A command arriving meanwhile waits for the batch in
        /// flight, which is only the case when the processor is behind anyway.
        pub max_batch: usize = 5_000,
        /// How long the first command of a batch waits for others to join it
        /// once the consumer has nothing more buffered. 0: none; batches still
        /// form from what arrived while the previous transaction committed.
        pub max_batch_wait_ms: u64 = 0,
        /// Join the consumer group as a static member named after the instance:
        /// a restarted instance (a rescheduled pod) resumes its partitions at once
        /// instead of triggering two rebalances. The price: partitions of an
        /// instance that is gone for good move only after its session times out.
        pub static_membership: bool = true,
        /// How long a decided command's outcome is remembered, so a repeated
        /// command id (an `Idempotency-Key` retry) returns its first outcome and
        /// appends nothing — however many other commands arrive meanwhile.
        /// Transfer legs are remembered longer where they must be (a credit until
        /// its deadline, a refund for 7 days).
        pub idempotency_window_secs: u64 = 24 * 60 * 60,
    }
}

impl ProcessorSettings {
    pub fn idempotency_window(&self) -> Duration {
        Duration::from_secs(self.idempotency_window_secs)
    }
}

impl Validate for Settings {
    fn validate(&self) -> Result<(), ConfigError> {
        self.validate_common()?;
        if !self.api.enabled && !self.processor.enabled {
            return Err(ConfigError::invalid(
                "api.enabled",
                "api and processor are both disabled; nothing would run",
            ));
        }
        if self.api.result_timeout_ms == 0 || self.api.result_timeout_ms > 60_000 {
            return Err(ConfigError::invalid(
                "api.result_timeout_ms",
                "must be between 1 and 60000",
            ));
        }
        checks::at_least("api.max_body_bytes", self.api.max_body_bytes, 256)?;
        checks::at_least("processor.max_batch", self.processor.max_batch, 1)?;
        if self.processor.idempotency_window_secs == 0
            || self.processor.idempotency_window_secs > 366 * 24 * 60 * 60
        {
            return Err(ConfigError::invalid(
                "processor.idempotency_window_secs",
                "must be between 1 second and 366 days",
            ));
        }
        checks::non_empty("processor.consumer_group", &self.processor.consumer_group)?;
        self.limits.validate()
    }
}
