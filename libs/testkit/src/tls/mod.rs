//! Servers that speak TLS only, for the tests of the encrypted transports:
//! certificates generated at test time ([`TestCertificates`]), a Redis with
//! an ACL user ([`TlsRedis`]), a PostgreSQL with `hostssl` only
//! ([`TlsPostgres`]). The Kafka counterpart is
//! [`PrivateKafka::start_tls`](crate::PrivateKafka::start_tls). Each is the
//! test's own (free ports, temporary directories) and stops when dropped.

mod certs;
mod postgres;
mod redis;

pub use crate::private_kafka::{ADMIN, ScramUser};
pub use certs::TestCertificates;
pub use postgres::{POSTGRES_USER, TlsPostgres};
pub use redis::{REDIS_USER, TlsRedis};
