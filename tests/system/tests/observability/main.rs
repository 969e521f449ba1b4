//! What an operator sees of the running system: one OpenTelemetry trace per
//! transfer in a real Jaeger ([`trace`]), and `/metrics` pages a real
//! Prometheus parser accepts, whose counters move by what a scripted
//! scenario did ([`metrics`]). Both run the four service binaries on the dev
//! infrastructure ([`system`]).

mod jaeger;
mod metrics;
mod system;
mod trace;

const SERVICES: [&str; 4] = [
    "account-command",
    "balance-projector",
    "transfer-saga",
    "audit-log",
];
