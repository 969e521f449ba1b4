//! Can this client reach the cluster and be let in? Asked once at start, so
//! a wrong password or an untrusted certificate stops a service with that
//! reason — librdkafka itself only logs it and retries, and the first
//! request then times out with no word of why.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

use super::KafkaSettings;

#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error(
        "Kafka refused the credentials of {username:?} ({mechanism}): {reason}; check \
         kafka.sasl_username and kafka.sasl_password"
    )]
    Authentication {
        username: String,
        mechanism: String,
        reason: String,
    },
    #[error(
        "TLS with the Kafka brokers failed: {reason}; check kafka.ssl_ca_file and that \
         the brokers' certificates name the host in kafka.bootstrap_servers"
    )]
    Tls { reason: String },
    #[error("no Kafka broker at {servers} answered within {waited:?}{}", last_error(.last))]
    Unreachable {
        servers: String,
        waited: Duration,
        last: Option<String>,
    },
    #[error("Kafka client could not be created: {0}")]
    Client(#[from] KafkaError),
}

fn last_error(last: &Option<String>) -> String {
    last.as_ref()
        .map(|error| format!(" (last error: {error})"))
        .unwrap_or_default()
}

/// The client errors librdkafka reported, kept for the verdict.
#[derive(Default, Clone)]
struct Seen {
    errors: Arc<Mutex<Vec<(RDKafkaErrorCode, String)>>>,
}

impl ClientContext for Seen {
    fn error(&self, error: KafkaError, reason: &str) {
        let code = error.rdkafka_error_code().unwrap_or(RDKafkaErrorCode::Fail);
        if let Ok(mut errors) = self.errors.lock() {
            errors.push((code, reason.to_owned()));
        }
    }
}

impl ConsumerContext for Seen {}

impl KafkaSettings {
    /// Fetches the cluster's metadata with this client configuration and
    /// returns how many brokers it lists, or why it could not.
    pub async fn check_connection(&self, limit: Duration) -> Result<usize, ConnectionError> {
        let settings = self.clone();
        tokio::task::spawn_blocking(move || settings.check_connection_blocking(limit))
            .await
            .unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()))
    }

    fn check_connection_blocking(&self, limit: Duration) -> Result<usize, ConnectionError> {
        let seen = Seen::default();
        let mut config = self.client_config();
        // Only the verdict below should speak; the reasons are in it.
        config.set("log_level", "0");
        for (key, value) in &self.client {
            config.set(key, value);
        }
        let client: BaseConsumer<Seen> = config.create_with_context(seen.clone())?;
        let started = Instant::now();
        loop {
            let remaining = limit.saturating_sub(started.elapsed());
            let attempt = remaining.min(Duration::from_secs(2));
            if let Ok(metadata) = client.fetch_metadata(None, attempt) {
                return Ok(metadata.brokers().len());
            }
            // Client errors reach the context only from the event queue.
            let _ = client.poll(Duration::from_millis(100));
            let errors = seen.errors.lock().map(|e| e.clone()).unwrap_or_default();
            // Refused credentials and failed handshakes do not heal by
            // retrying: say so at once.
            if let Some(verdict) = self.verdict(&errors) {
                return Err(verdict);
            }
            if started.elapsed() >= limit {
                return Err(ConnectionError::Unreachable {
                    servers: self.bootstrap_servers.clone(),
                    waited: limit,
                    last: errors.last().map(|(_, reason)| reason.clone()),
                });
            }
        }
    }

    fn verdict(&self, errors: &[(RDKafkaErrorCode, String)]) -> Option<ConnectionError> {
        errors.iter().find_map(|(code, reason)| match code {
            RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SaslAuthenticationFailed => {
                Some(ConnectionError::Authentication {
                    username: self.sasl_username.clone().unwrap_or_default(),
                    mechanism: self
                        .sasl_mechanism
                        .map(|m| m.as_kafka().to_owned())
                        .unwrap_or_default(),
                    reason: reason.clone(),
                })
            }
            RDKafkaErrorCode::SSL => Some(ConnectionError::Tls {
                reason: reason.clone(),
            }),
            _ => None,
        })
    }
}
