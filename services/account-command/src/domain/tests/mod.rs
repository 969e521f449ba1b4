//! Tests of the aggregate, written as scenarios: `given` a history of events,
//! `when` a command is decided, `then` these events (or this rejection).
//!
//! `given` builds its state through `apply` and `then` applies the decided
//! events, so every decide test also checks that decide and apply agree.

mod apply;
mod decide_cash;
mod decide_existence;
mod decide_lifecycle;
mod decide_transfers;
mod harness;
mod properties;
mod snapshot;
