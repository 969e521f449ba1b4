//! account-command's integration tests against the real broker, as one
//! binary (one link of librdkafka): each module is one area, `common` the
//! harness they share. Every test isolates its own topics and groups, so
//! they run in parallel.

mod common;

mod auth;
mod command_memory;
mod ensure_topics;
mod exactly_once;
mod hostile_input;
mod http_api;
mod ops_endpoints;
