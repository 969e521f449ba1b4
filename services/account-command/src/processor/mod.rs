//! The exactly-once command processor: the single writer of `account-events`.
//!
//! It owns the accounts of the `account-commands` partitions assigned to it.
//! For each command it decides against the account's current state and, in the
//! batch's one Kafka transaction (see the runtime's transactional loop), writes
//! the events to `account-events`, the account's new snapshot to the compacted
//! `account-state` (both on the command's partition number: co-partitioned),
//! and the result to `command-results`, and remembers every decided command
//! on `command-memory` (see [`memory`]). Restoring on assignment reads the
//! snapshots and the memory back.

mod accounts;
mod command_processor;
pub mod memory;

pub use command_processor::{CommandProcessor, ProcessorTopics};
