//! End to end: the built `eventbank` binary against the four real services
//! (in this test process, on port 0, with this run's own topics, consumer
//! groups, transactional ids, Redis prefix and PostgreSQL schema) on the
//! shared Kafka, Redis and PostgreSQL. One system serves every test; each
//! test opens its own accounts.

mod common;

mod accounts;
mod audit_ops;
mod auth;
mod headers;
mod load_demo;
mod shell;
mod transfers;
