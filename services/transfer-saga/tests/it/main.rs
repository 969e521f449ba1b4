//! transfer-saga's integration tests against the real broker, as one binary
//! (one link of librdkafka): each module is one area, `common` the harness
//! they share. Every test isolates its own topics and groups, so they run in
//! parallel.

mod common;

mod anomalies;
mod conservation;
mod crashes;
mod flows;
mod ops_endpoints;
mod retention;
