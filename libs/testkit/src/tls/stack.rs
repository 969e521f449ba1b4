//! The whole infrastructure over TLS only, for running the services on it:
//! a TLS Kafka with one SCRAM user per service (so per-service ACLs can be
//! switched on without changing who logs in), a TLS Redis and a TLS
//! PostgreSQL, all trusting one throwaway CA.

use eventbank_runtime::kafka::KafkaSettings;

use super::{REDIS_USER, ScramUser, TestCertificates, TlsPostgres, TlsRedis};
use crate::{Isolation, PrivateKafka};

/// The services, each its own Kafka user.
pub const SERVICES: [&str; 4] = [
    "account-command",
    "balance-projector",
    "transfer-saga",
    "audit-log",
];

/// Everything stops when dropped.
#[derive(Debug)]
pub struct TlsStack {
    pub kafka: PrivateKafka,
    pub redis: TlsRedis,
    pub postgres: TlsPostgres,
    pub users: Vec<ScramUser>,
    /// Last: the servers above read their copies, but a test may still
    /// point a client at these files.
    pub certs: TestCertificates,
}

impl TlsStack {
    pub async fn start() -> Self {
        let certs = TestCertificates::generate();
        let users: Vec<ScramUser> = SERVICES.iter().map(|name| ScramUser::new(name)).collect();
        let kafka = PrivateKafka::start_tls(&certs, &users).await;
        let redis = TlsRedis::start(&certs);
        let postgres = TlsPostgres::start(&certs);
        Self {
            kafka,
            redis,
            postgres,
            users,
            certs,
        }
    }

    /// The Kafka user of `service`.
    pub fn user(&self, service: &str) -> &ScramUser {
        self.users
            .iter()
            .find(|user| user.name == service)
            .unwrap_or_else(|| panic!("{service} is not one of {SERVICES:?}"))
    }

    /// `service`'s Kafka settings: `SASL_SSL` as its own user.
    pub fn kafka_settings(&self, service: &str, isolation: &Isolation) -> KafkaSettings {
        self.kafka
            .sasl_ssl_settings(&isolation.topic_prefix(), self.user(service))
    }

    /// The `EVENTBANK_*` variables that connect `service` to this stack and
    /// nothing else: Kafka over `SASL_SSL`, Redis over `rediss://` as an ACL
    /// user, PostgreSQL with `sslmode=verify-full` — passwords separate from
    /// the URLs, as a deployment passes them from Secrets.
    pub fn service_env(&self, service: &str, isolation: &Isolation) -> Vec<(String, String)> {
        let mut env = crate::process::kafka_env(&self.kafka_settings(service, isolation));
        let ca_file = self.certs.ca_file().display().to_string();
        let store: Vec<(&str, String)> = match service {
            "balance-projector" => vec![
                ("REDIS__URL", self.redis.url()),
                ("REDIS__USERNAME", REDIS_USER.to_owned()),
                ("REDIS__PASSWORD", self.redis.password().expose().to_owned()),
                ("REDIS__CA_FILE", ca_file),
                ("REDIS__KEY_PREFIX", isolation.redis_prefix()),
            ],
            "audit-log" => vec![
                ("POSTGRES__URL", self.postgres.url()),
                (
                    "POSTGRES__PASSWORD",
                    self.postgres.password().expose().to_owned(),
                ),
                ("POSTGRES__SSLMODE", "verify-full".to_owned()),
                ("POSTGRES__CA_FILE", ca_file),
                ("POSTGRES__SCHEMA", isolation.pg_schema()),
            ],
            _ => Vec::new(),
        };
        env.extend(
            store
                .into_iter()
                .map(|(key, value)| (format!("EVENTBANK_{key}"), value)),
        );
        env
    }

    /// Every password of the stack, for a test that checks none is printed.
    pub fn passwords(&self) -> Vec<String> {
        let mut passwords: Vec<String> = self.users.iter().map(|u| u.password.clone()).collect();
        passwords.push(self.kafka.admin().password.clone());
        passwords.push(self.redis.password().expose().to_owned());
        passwords.push(self.postgres.password().expose().to_owned());
        passwords
    }
}
