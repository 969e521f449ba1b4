//! Configuration of transfer-saga: defaults here, then the optional TOML file, then
//! `EVENTBANK_*` environment variables.

use eventbank_runtime::service::CommonSettings;
use eventbank_runtime::{ConfigError, Validate, checks};

/// Default HTTP port of transfer-saga (DESIGN.md).
pub const DEFAULT_PORT: u16 = 8082;

eventbank_runtime::service_settings! {
    pub struct Settings on port DEFAULT_PORT;
    pub saga: SagaSettings,
}

eventbank_runtime::settings_section! {
    /// How the saga consumes, batches, retries and times transfers out.
    pub struct SagaSettings {
        /// Group of the saga proper (reads the inbox, owns `transfer-state`).
        pub consumer_group: String = "transfer-saga".to_owned(),
        /// Group of the router (reads `account-events` and `command-results`,
        /// copies each transfer leg into the inbox keyed by transfer id).
        pub router_consumer_group: String = "transfer-saga-router".to_owned(),
        /// Records per Kafka transaction at most.
        pub max_batch: usize = 500,
        /// How long the first record of a batch waits for others to join it
        /// once the consumer has nothing more buffered (0: none).
        pub max_batch_wait_ms: u64 = 0,
        /// Join the groups as static members named after the instance (see
        /// account-command's setting of the same name).
        pub static_membership: bool = true,
        /// A transfer with no progress for this long has its pending command
        /// issued again (same command id: absorbed if it was already decided).
        /// Further retries back off linearly, up to ten times this.
        pub retry_after_ms: u64 = 10_000,
        /// The second limit: a credit not decided by the target within this time
        /// of the debit is refused there (`transfer_expired`), and the saga refunds
        /// the source and fails the transfer with reason `timeout`.
        pub credit_deadline_ms: u64 = 5 * 60 * 1_000,
        /// How often pending transfers are checked for due retries (and
        /// finished ones for expiry).
        pub tick_interval_ms: u64 = 1_000,
        /// A finished transfer is remembered for this long after it finished,
        /// then its state is deleted from `transfer-state` (a tombstone) and
        /// from memory. Any debit older than this is refused (dead-lettered)
        /// rather than started, so it must exceed the longest the saga can lag
        /// behind the accounts.
        pub finished_retention_secs: u64 = 7 * 24 * 60 * 60,
    }
}

impl Validate for SagaSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        checks::non_empty("saga.consumer_group", &self.consumer_group)?;
        checks::non_empty("saga.router_consumer_group", &self.router_consumer_group)?;
        if self.consumer_group == self.router_consumer_group {
            return Err(ConfigError::invalid(
                "saga.router_consumer_group",
                "must differ from saga.consumer_group",
            ));
        }
        checks::at_least("saga.max_batch", self.max_batch, 1)?;
        checks::at_least("saga.retry_after_ms", self.retry_after_ms, 1)?;
        checks::at_least("saga.tick_interval_ms", self.tick_interval_ms, 1)?;
        checks::at_least(
            "saga.finished_retention_secs",
            self.finished_retention_secs,
            1,
        )?;
        if self.credit_deadline_ms <= self.retry_after_ms {
            return Err(ConfigError::invalid(
                "saga.credit_deadline_ms",
                "must exceed saga.retry_after_ms, or a credit expires before its first retry",
            ));
        }
        Ok(())
    }
}

impl Validate for Settings {
    fn validate(&self) -> Result<(), ConfigError> {
        self.validate_common()?;
        self.saga.validate()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Settings::default().validate().expect("defaults validate");
    }

    #[test]
    fn a_deadline_shorter_than_the_first_retry_is_refused() {
        let mut settings = Settings::default();
        settings.saga.credit_deadline_ms = settings.saga.retry_after_ms;
        let err = settings.validate().expect_err("refused");
        assert!(err.to_string().contains("saga.credit_deadline_ms"), "{err}");
    }

    #[test]
    fn a_zero_retention_of_finished_transfers_is_refused() {
        let mut settings = Settings::default();
        settings.saga.finished_retention_secs = 0;
        let err = settings.validate().expect_err("refused");
        assert!(
            err.to_string().contains("saga.finished_retention_secs"),
            "{err}"
        );
    }

    #[test]
    fn finished_transfers_are_kept_for_seven_days_by_default() {
        assert_eq!(SagaSettings::default().finished_retention_secs, 604_800);
    }

    #[test]
    fn the_two_groups_must_differ() {
        let mut settings = Settings::default();
        settings.saga.router_consumer_group = settings.saga.consumer_group.clone();
        let err = settings.validate().expect_err("refused");
        assert!(err.to_string().contains("router_consumer_group"), "{err}");
    }
}
