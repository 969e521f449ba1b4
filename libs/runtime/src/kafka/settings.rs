//! How every Kafka client of the system is configured: brokers, security,
//! transactions, topic prefix and layout, raw librdkafka overrides.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::checks;
use crate::config::ConfigError;
use crate::secret::Secret;
use eventbank_events::{TopicLayout, Topics};

pub use super::security::{SaslMechanism, SecurityProtocol};

crate::settings_section! {
    pub struct KafkaSettings {
        /// Comma-separated `host:port` list.
        pub bootstrap_servers: String = "127.0.0.1:9092".to_owned(),
        /// Prepended to every topic name, so tests and tenants can share a cluster.
        pub topic_prefix: String = String::new(),
        /// `plaintext`, `ssl`, `sasl_plaintext` or `sasl_ssl` (see `security`).
        pub security_protocol: SecurityProtocol = SecurityProtocol::Plaintext,
        /// PEM file of the CA that signed the brokers' certificates (`ssl`,
        /// `sasl_ssl`); absent: the system's trust store.
        pub ssl_ca_file: Option<PathBuf> = None,
        /// `SCRAM-SHA-512`, `SCRAM-SHA-256` or `PLAIN` (the SASL protocols).
        pub sasl_mechanism: Option<SaslMechanism> = None,
        pub sasl_username: Option<String> = None,
        pub sasl_password: Option<Secret> = None,
        /// Must exceed the longest batch a transactional writer holds open; the
        /// broker aborts a transaction that outlives it.
        pub transaction_timeout_ms: u32 = 60_000,
        /// Transactional producers each exactly-once loop uses in turn, so a
        /// transaction never waits for the coordinator to finish the previous
        /// one's commit markers (librdkafka's fixed 20 ms back-off). 1..=8.
        pub transactional_producers: usize = 2,
        pub topics: TopicSettings = TopicSettings::default(),
        /// Raw librdkafka properties applied last, for tuning without a release
        /// (e.g. `client."linger.ms" = "20"`, or the environment's
        /// `EVENTBANK_KAFKA__CLIENT__LINGER_MS=20`: see `client_properties`).
        #[serde(deserialize_with = "super::client_properties::deserialize")]
        pub client: BTreeMap<String, String> = BTreeMap::new(),
    }
}

crate::settings_section! {
    /// How this service creates the topics it needs if they are missing.
    pub struct TopicSettings {
        /// Create missing topics at start. Off when a platform team owns topics
        /// (then a missing topic fails readiness instead).
        pub create: bool = true,
        pub partitions: i32 = 6,
        pub replication_factor: i16 = 1,
        pub min_insync_replicas: Option<u16> = None,
    }
}

impl KafkaSettings {
    pub fn topics(&self) -> Topics {
        Topics::new(self.topic_prefix.clone())
    }

    /// How long restoring state from a compacted topic may take: reading to
    /// the true end of a partition waits out any transaction still open on
    /// it, which lasts at most the transaction timeout.
    pub fn restore_limit(&self) -> Duration {
        Duration::from_millis(u64::from(self.transaction_timeout_ms) + 30_000)
    }

    pub fn layout(&self) -> TopicLayout {
        TopicLayout {
            partitions: self.topics.partitions,
            replication_factor: self.topics.replication_factor,
            min_insync_replicas: self.topics.min_insync_replicas,
            ..TopicLayout::default()
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        checks::non_empty("kafka.bootstrap_servers", &self.bootstrap_servers)?;
        checks::at_least("kafka.topics.partitions", self.topics.partitions, 1)?;
        checks::at_least(
            "kafka.topics.replication_factor",
            self.topics.replication_factor,
            1,
        )?;
        if let Some(min_isr) = self.topics.min_insync_replicas
            && i32::from(min_isr) > i32::from(self.topics.replication_factor)
        {
            return Err(ConfigError::invalid(
                "kafka.topics.min_insync_replicas",
                "cannot exceed replication_factor",
            ));
        }
        if !(1..=crate::kafka::transactional::MAX_TRANSACTIONAL_PRODUCERS)
            .contains(&self.transactional_producers)
        {
            return Err(ConfigError::invalid(
                "kafka.transactional_producers",
                "must be between 1 and 8",
            ));
        }
        checks::at_least(
            "kafka.transaction_timeout_ms",
            self.transaction_timeout_ms,
            1_000,
        )?;
        if self
            .topic_prefix
            .chars()
            .any(|c| !(c.is_ascii_alphanumeric() || "._-".contains(c)))
        {
            return Err(ConfigError::invalid(
                "kafka.topic_prefix",
                "may contain only ASCII letters, digits, '.', '_' and '-'",
            ));
        }
        self.validate_security()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        KafkaSettings::default()
            .validate()
            .expect("defaults validate");
    }

    #[test]
    fn rejects_nonsense() {
        let mut settings = KafkaSettings::default();
        settings.topics.min_insync_replicas = Some(2);
        let err = settings.validate().expect_err("min isr above rf");
        assert!(err.to_string().contains("min_insync_replicas"), "{err}");

        let settings = KafkaSettings {
            topic_prefix: "bad prefix/".into(),
            ..KafkaSettings::default()
        };
        assert!(settings.validate().is_err());

        let settings = KafkaSettings {
            security_protocol: SecurityProtocol::SaslPlaintext,
            ..KafkaSettings::default()
        };
        assert!(settings.validate().is_err());
    }
}
