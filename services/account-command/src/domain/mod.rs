//! The account aggregate, pure: [`decide`](fn@decide) turns a command into events or a
//! rejection, [`apply`](fn@apply) folds one event into the state.
//!
//! No I/O, no clock, no randomness: the processor supplies the state, the
//! command, the limits and (in the envelope) the time, so every rule here is
//! testable as a plain function and replaying the log always rebuilds the same
//! account.
//!
//! The split matters: `decide` is where business rules live and may change
//! between releases; `apply` only records facts that were already decided, so
//! it must accept every event any past release wrote and may refuse only what
//! is internally inconsistent (a gap, a balance that does not add up).

mod account;
mod apply;
mod checks;
mod decide;
mod error;
mod limits;

#[cfg(test)]
mod tests;

pub use account::Account;
pub use apply::apply;
pub use decide::decide;
pub use error::ApplyError;
pub use limits::Limits;
