//! The saga's rules, pure: what a transfer's state becomes on each of its
//! legs' outcomes and on the clock, and what the saga must do about it. No
//! Kafka here; the processor turns [`Action`]s into records.

mod input;
mod timing;
mod transition;

#[cfg(test)]
pub(crate) mod test_clock;
#[cfg(test)]
mod tests;

pub use input::{Debit, DebitSeen, Input, Leg};
pub use timing::{Timing, finished_at};
pub use transition::{Action, Anomaly, Transition, check_debit, decide, due_retry};
