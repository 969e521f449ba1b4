//! The parts of eventbank's benchmark (`scripts/bench`, binary
//! `eventbank-bench`), as a library so other tools reuse them.
//!
//! * [`load`] — the HTTP load engine: concurrent clients, full speed or a
//!   fixed rate, latency in HdrHistograms. Knows nothing about the bank;
//!   it lives in the CLI's library (`eventbank_cli::load::engine`), so
//!   `eventbank load` and the benchmark measure the same way.
//! * [`bank`] and [`workloads`] — the bank's HTTP APIs and the workloads the
//!   benchmark drives through the engine (commands, command → visible,
//!   transfers end to end); [`watch`] follows transfers on `transfer-events`.
//! * [`services`] — the four services as child processes, and their RSS;
//!   [`auth`] — the run's bearer token, which they accept and clients send.
//! * [`kafka`] — topics, backlogs, reading a topic to its end.
//! * [`ceiling`] — Kafka's own perf tools, the raw ceiling.
//! * [`report`] and [`charts`] — `results.json`, the table, the PNGs.
//! * [`bench`] — the stages of one run, in order.
//!
//! Figures are printed, never asserted: nothing here is a test.

pub mod auth;
pub mod bank;
pub mod bench;
pub mod ceiling;
pub mod charts;
pub mod kafka;
pub use eventbank_cli::load::engine as load;
pub mod report;
pub mod services;
pub mod watch;
pub mod workloads;
