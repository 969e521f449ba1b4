//! balance-projector's integration tests against the real broker and Redis,
//! as one binary (one link of librdkafka): each module is one area, `common`
//! the harness they share. Every test isolates its own topics, group and
//! keyspace, so they run in parallel.

mod common;

mod apply_batches;
mod auth;
mod crash_and_rebuild;
mod end_to_end;
mod hostile_input;
mod ops_endpoints;
mod projector;
mod rebuild_once;
mod redis_tls;
