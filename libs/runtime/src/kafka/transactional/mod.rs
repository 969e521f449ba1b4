//! The exactly-once read-process-write loop shared by every transactional
//! writer (the account-command processor, the transfer saga).
//!
//! One batch = one Kafka transaction holding everything the batch produced,
//! dead letters included, and the consumer offsets that produced it
//! (`send_offsets_to_transaction`). A crash, abort or rebalance never separates
//! an output from its input's offset commit. The [`Processor`] keeps its state
//! changes staged until the loop tells it the transaction committed, and drops
//! them when it aborted; the loop then rewinds the consumer to the batch's first
//! offsets, so the batch is decided again from committed state.
//!
//! The loop runs on a blocking thread of its own: librdkafka's transactional
//! calls block, and rebalance callbacks run inside `poll`, which is only ever
//! called between transactions — so a partition is never revoked while a
//! transaction that covers it is open.

mod context;
mod metrics;
mod processor;
mod producers;
mod restore;
mod runner;
mod watchdog;

pub use metrics::LoopMetrics;
pub use processor::{HandleError, Processor, ProcessorError, TopicPartition};
pub use producers::{MAX_TRANSACTIONAL_PRODUCERS, ring_transactional_id};
pub use restore::{restore_partitions, restore_snapshots};
pub use runner::{LoopConfig, LoopError, spawn_loop};
pub use watchdog::{EXIT_CODE as STUCK_CALL_EXIT_CODE, arm_stuck_call_exit};
