//! Test support for integration tests against the real infrastructure.
//!
//! Tests never start the shared Kafka, Redis or PostgreSQL themselves: `scripts/dev
//! up` does, and writes where they listen to `.dev/env`; the test command runs it
//! first. The few tests that must pause or kill a broker start a
//! [`PrivateKafka`] of their own from the jars that script cached.
//! [`TestEnv`] reads those addresses (environment variables win over the file),
//! and [`Isolation`] gives each test its own topic prefix, consumer group,
//! transactional id, Redis key prefix and database schema so tests run in
//! parallel without seeing each other's data. [`InProcess`] runs any service
//! inside the test, [`process::ServiceProcess`] runs a service binary as a
//! child process a test can SIGKILL, and [`RecordWriter`] puts records on a
//! test's topics behind the services' backs. Every service a test starts
//! accepts [`auth::TOKEN`], and testkit's clients ([`http::client`],
//! [`bank::BankClient`]) send it. [`tls`] starts servers of a test's own that
//! speak TLS only, with certificates generated at test time.

pub mod auth;
pub mod bank;
pub mod commands;
mod env;
mod eventually;
pub mod hostile;
pub mod http;
mod isolation;
pub mod kafka_proxy;
pub mod log;
pub mod metrics;
pub mod ops;
pub mod poison;
mod private_kafka;
pub mod process;
mod service;
pub mod tls;
mod writer;

pub use env::TestEnv;
pub use eventually::{eventually, eventually_every};
pub use isolation::Isolation;
pub use private_kafka::PrivateKafka;
pub use service::{InProcess, local_http};
pub use writer::RecordWriter;
