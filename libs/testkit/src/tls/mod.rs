//! Servers that speak TLS only, for the tests of the encrypted transports:
//! certificates generated at test time ([`TestCertificates`]), a Redis with
//! an ACL user ([`TlsRedis`]), a PostgreSQL with `hostssl` only
//! ([`TlsPostgres`]). The Kafka counterpart is
//! [`PrivateKafka::start_tls`](crate::PrivateKafka::start_tls). Each is the
//! test's own (free ports, temporary directories) and stops when dropped;
//! [`TlsStack`] starts all three for the services.

mod certs;
mod postgres;
mod redis;
mod stack;

pub use crate::private_kafka::{ADMIN, ScramUser};
pub use certs::TestCertificates;
pub use postgres::{POSTGRES_USER, TlsPostgres};
pub use redis::{REDIS_USER, TlsRedis};
pub use stack::{SERVICES, TlsStack};

/// A random password that reads as text from any configuration layer (a
/// leading letter: an environment value of digits would arrive as a number).
pub fn random_password() -> String {
    format!("pw-{}", uuid::Uuid::new_v4().simple())
}
