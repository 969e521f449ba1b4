//! The consumer for services whose output is not Kafka (Redis, PostgreSQL):
//! a [`Sink`] says how a batch is written; [`SinkConsumer`] does the rest —
//! batching, retrying a failed write, committing offsets once the sink has
//! the batch, measuring lag, and stopping on a fatal consumer error.
//!
//! Exactly-once here is the sink's part: a batch can be delivered again
//! (after a crash before its offsets are committed, or a rebalance), so
//! [`Sink::write`] must be idempotent, or store the offsets it has written
//! in the same transaction as the batch ([`Offsets::InSink`]).

mod consumer;
mod lag;
mod positions;

use std::collections::HashMap;
use std::time::Duration;

pub use consumer::{SinkConsumer, SinkConsumerError, sink_consumer_config};
pub use lag::{LagObserver, Lags, PartitionLag};

use super::{BatchLimits, OwnedRecord};

/// A prepared item that still knows the record it came from (its position
/// for the offsets, its headers for the trace).
pub trait Consumed {
    fn record(&self) -> &OwnedRecord;
}

impl Consumed for OwnedRecord {
    fn record(&self) -> &OwnedRecord {
        self
    }
}

/// What a [`SinkConsumer`] writes to.
pub trait Sink: Send + Sync + 'static {
    /// A received record made ready for [`Sink::write`] (decoded, say). It is
    /// prepared as it arrives, which can overlap the previous batch's write.
    type Item: Consumed + Send + Sync;
    type Error: std::error::Error + Send + Sync + 'static;

    fn prepare(&self, record: OwnedRecord) -> Self::Item;

    /// Makes `batch` durable, dead-lettering what can never be written. An
    /// error retries the same batch after a pause, until it succeeds or the
    /// consumer is asked to stop.
    fn write(&self, batch: &[Self::Item]) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// `batch` is written (and, with [`Offsets::Kafka`], its commit is sent).
    fn written(&self, batch: &[Self::Item]) {
        let _ = batch;
    }

    /// A write failed and will be retried.
    fn write_failed(&self, error: &Self::Error) {
        let _ = error;
    }
}

/// Who keeps the consumer's offsets.
#[derive(Debug, Clone)]
pub enum Offsets {
    /// The consumer group's committed offsets: each batch's are committed
    /// once it is written, the last ones again synchronously at the end.
    Kafka,
    /// The sink stores them with its writes (one database transaction); the
    /// consumer's context starts assigned partitions there. Given: the
    /// offsets stored when the consumer starts, for the lag probe.
    InSink(HashMap<(String, i32), i64>),
}

/// How a [`SinkConsumer`] runs.
#[derive(Debug, Clone)]
pub struct SinkOptions {
    /// The consumer group (for the records' trace spans).
    pub group: String,
    pub topics: Vec<String>,
    pub limits: BatchLimits,
    pub offsets: Offsets,
    /// Receive and prepare the next batch while this one is written. Off
    /// when the sink relies on the consumer's rebalance callback not running
    /// during a write.
    pub overlap: bool,
    pub lag_interval: Duration,
    /// Pause before a failed write is retried.
    pub retry_backoff: Duration,
}
