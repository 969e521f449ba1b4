//! audit-log's integration tests against the real broker and PostgreSQL, as
//! one binary (one link of librdkafka): each module is one area, `common` the
//! harness they share. Every test isolates its own topics, group and schema,
//! so they run in parallel.

mod common;

mod auth;
mod crash;
mod grants;
mod hostile_input;
mod ops_endpoints;
mod postgres_tls;
mod scenario;
mod tamper;
