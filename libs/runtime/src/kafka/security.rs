//! How a Kafka client proves who it is and protects what it sends: the
//! listener's protocol (plaintext or TLS, with or without SASL), the SASL
//! mechanism, and the CA that signed the brokers' certificates.
//!
//! The password is a [`Secret`](crate::secret::Secret) in
//! [`KafkaSettings`]: it reaches librdkafka's configuration here and nowhere
//! else, and prints as `***` in the effective configuration.

use rdkafka::ClientConfig;
use serde::{Deserialize, Serialize};

use super::KafkaSettings;
use crate::checks;
use crate::config::ConfigError;

/// The protocol of the listener the client connects to (librdkafka's
/// `security.protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SecurityProtocol {
    #[default]
    Plaintext,
    /// TLS: the brokers' certificates are verified (against `ssl_ca_file` or
    /// the system's trust store), host name included.
    Ssl,
    SaslPlaintext,
    /// SASL authentication inside TLS: what a production cluster should use.
    SaslSsl,
}

impl SecurityProtocol {
    pub(crate) fn as_librdkafka(self) -> &'static str {
        match self {
            Self::Plaintext => "plaintext",
            Self::Ssl => "ssl",
            Self::SaslPlaintext => "sasl_plaintext",
            Self::SaslSsl => "sasl_ssl",
        }
    }

    pub fn uses_tls(self) -> bool {
        matches!(self, Self::Ssl | Self::SaslSsl)
    }

    pub fn uses_sasl(self) -> bool {
        matches!(self, Self::SaslPlaintext | Self::SaslSsl)
    }
}

/// The SASL mechanisms librdkafka can use with a user name and password,
/// spelt as Kafka spells them (`SCRAM-SHA-512`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SaslMechanism {
    /// The password travels as it is: only ever inside TLS.
    #[serde(rename = "PLAIN")]
    Plain,
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    #[serde(rename = "SCRAM-SHA-512")]
    ScramSha512,
}

impl SaslMechanism {
    pub fn as_kafka(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

impl KafkaSettings {
    /// The security part of every client's configuration.
    pub(crate) fn apply_security(&self, config: &mut ClientConfig) {
        config.set("security.protocol", self.security_protocol.as_librdkafka());
        if self.security_protocol.uses_tls()
            && let Some(ca_file) = &self.ssl_ca_file
        {
            config.set("ssl.ca.location", ca_file.display().to_string());
        }
        if self.security_protocol.uses_sasl() {
            if let Some(mechanism) = self.sasl_mechanism {
                config.set("sasl.mechanism", mechanism.as_kafka());
            }
            if let Some(username) = &self.sasl_username {
                config.set("sasl.username", username);
            }
            if let Some(password) = &self.sasl_password {
                config.set("sasl.password", password.expose());
            }
        }
    }

    /// Security settings that cannot work together are refused before any
    /// client connects: a SASL protocol without its credentials, or a CA file
    /// nobody can read (librdkafka would only say so in a log line).
    pub(crate) fn validate_security(&self) -> Result<(), ConfigError> {
        if self.security_protocol.uses_sasl() {
            let protocol = self.security_protocol.as_librdkafka();
            if self.sasl_mechanism.is_none() {
                return Err(ConfigError::invalid(
                    "kafka.sasl_mechanism",
                    format!("{protocol} needs a mechanism (SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN)"),
                ));
            }
            match &self.sasl_username {
                Some(name) => checks::non_empty("kafka.sasl_username", name)?,
                None => {
                    return Err(ConfigError::invalid(
                        "kafka.sasl_username",
                        format!("{protocol} needs a user name"),
                    ));
                }
            }
            if self.sasl_password.is_none() {
                return Err(ConfigError::invalid(
                    "kafka.sasl_password",
                    format!("{protocol} needs a password"),
                ));
            }
            if self.sasl_mechanism == Some(SaslMechanism::Plain)
                && !self.security_protocol.uses_tls()
            {
                return Err(ConfigError::invalid(
                    "kafka.sasl_mechanism",
                    "PLAIN sends the password as it is: use it with sasl_ssl only",
                ));
            }
        }
        if let Some(ca_file) = &self.ssl_ca_file {
            if !self.security_protocol.uses_tls() {
                return Err(ConfigError::invalid(
                    "kafka.ssl_ca_file",
                    "is set but security_protocol is not ssl or sasl_ssl",
                ));
            }
            checks::readable_file("kafka.ssl_ca_file", ca_file)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn sasl_ssl() -> KafkaSettings {
        KafkaSettings {
            security_protocol: SecurityProtocol::SaslSsl,
            sasl_mechanism: Some(SaslMechanism::ScramSha512),
            sasl_username: Some("account-command".into()),
            sasl_password: Some(Secret::new("hunter2")),
            ..KafkaSettings::default()
        }
    }

    #[test]
    fn sasl_ssl_reaches_librdkafka_with_the_ca_and_credentials() {
        let ca = tempfile::NamedTempFile::new().unwrap();
        let settings = KafkaSettings {
            ssl_ca_file: Some(ca.path().to_owned()),
            ..sasl_ssl()
        };
        settings
            .validate()
            .expect("complete sasl_ssl settings validate");
        let config = settings.producer_config();
        assert_eq!(config.get("security.protocol"), Some("sasl_ssl"));
        assert_eq!(config.get("sasl.mechanism"), Some("SCRAM-SHA-512"));
        assert_eq!(config.get("sasl.username"), Some("account-command"));
        assert_eq!(config.get("sasl.password"), Some("hunter2"));
        let ca_path = ca.path().display().to_string();
        assert_eq!(config.get("ssl.ca.location"), Some(ca_path.as_str()));
    }

    #[test]
    fn plain_ssl_sends_no_credentials() {
        let settings = KafkaSettings {
            security_protocol: SecurityProtocol::Ssl,
            ..sasl_ssl()
        };
        settings.validate().expect("ssl validates");
        let config = settings.consumer_config("g");
        assert_eq!(config.get("security.protocol"), Some("ssl"));
        assert_eq!(config.get("sasl.password"), None);
        assert_eq!(config.get("ssl.ca.location"), None, "system trust store");
    }

    #[test]
    fn incomplete_or_unsafe_security_is_refused_naming_the_field() {
        let cases: [(&str, KafkaSettings); 5] = [
            (
                "kafka.sasl_mechanism",
                KafkaSettings {
                    sasl_mechanism: None,
                    ..sasl_ssl()
                },
            ),
            (
                "kafka.sasl_username",
                KafkaSettings {
                    sasl_username: None,
                    ..sasl_ssl()
                },
            ),
            (
                "kafka.sasl_password",
                KafkaSettings {
                    sasl_password: None,
                    ..sasl_ssl()
                },
            ),
            (
                "kafka.sasl_mechanism",
                KafkaSettings {
                    security_protocol: SecurityProtocol::SaslPlaintext,
                    sasl_mechanism: Some(SaslMechanism::Plain),
                    ..sasl_ssl()
                },
            ),
            (
                "kafka.ssl_ca_file",
                KafkaSettings {
                    ssl_ca_file: Some("/nonexistent/ca.pem".into()),
                    ..sasl_ssl()
                },
            ),
        ];
        for (field, settings) in cases {
            let err = settings.validate().expect_err(field).to_string();
            assert!(err.contains(field), "{field}: {err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn the_effective_configuration_shows_no_password_or_key() {
        let mut settings = sasl_ssl();
        settings.client.insert(
            "ssl.key.pem".into(),
            "-----BEGIN PRIVATE KEY-----\nMIGHAgEAkey-material\n-----END PRIVATE KEY-----".into(),
        );
        settings
            .client
            .insert("ssl.key.password".into(), "key-secret".into());
        let shown = crate::config::redacted(&settings).to_string();
        for secret in ["hunter2", "key-material", "key-secret"] {
            assert!(!shown.contains(secret), "{secret} shown: {shown}");
        }
        assert!(shown.contains("\"sasl_ssl\""), "{shown}");
        assert!(shown.contains("\"SCRAM-SHA-512\""), "{shown}");
        assert!(shown.contains("\"account-command\""), "{shown}");
    }

    #[test]
    fn mechanisms_are_read_as_kafka_spells_them() {
        let mechanism: SaslMechanism = serde_json::from_str("\"SCRAM-SHA-512\"").unwrap();
        assert_eq!(mechanism, SaslMechanism::ScramSha512);
        assert!(serde_json::from_str::<SaslMechanism>("\"scram\"").is_err());
        let protocol: SecurityProtocol = serde_json::from_str("\"sasl_ssl\"").unwrap();
        assert_eq!(protocol, SecurityProtocol::SaslSsl);
    }
}
