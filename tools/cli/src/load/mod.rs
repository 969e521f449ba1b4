//! Load and its bookkeeping:
//!
//! * [`engine`] — the HTTP load engine (concurrent clients, a rate or full
//!   speed, latency in HdrHistograms; shared with the benchmark);
//! * [`workload`] — the bank mix `eventbank load` drives: deposits,
//!   withdrawals and transfers over a set of accounts;
//! * [`ledger`] — the client-side record of every command the bank
//!   acknowledged (or rejected, or left unknown), from which the expected
//!   balances, versions and history lengths follow;
//! * [`verify`] — the invariants checked against the running bank at the end;
//! * [`cli`] — `eventbank load`'s flags, progress bar and summary.

pub mod cli;
pub mod engine;
pub mod ledger;
pub mod verify;
pub mod workload;
