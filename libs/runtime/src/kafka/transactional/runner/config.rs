//! What a transactional loop is told ([`LoopConfig`]) and how it can fail
//! ([`LoopError`]), with which failures a restart cannot cure.

use std::time::Duration;

use rdkafka::error::KafkaError;

use crate::kafka::is_fatal_consumer_error;
use crate::kafka::transactional::processor::ProcessorError;

/// How one transactional loop consumes and batches.
#[derive(Debug, Clone)]
pub struct LoopConfig {
    /// Names the loop in logs, metrics and dead-letter headers.
    pub name: String,
    pub input_topics: Vec<String>,
    pub group_id: String,
    /// Stable across restarts of the same instance; see `transactional_id`.
    /// The first producer of the ring uses it, the others `<id>.<n>`.
    pub transactional_id: String,
    /// Transactional producers used in turn (see `producers.rs`: why, and
    /// why it keeps exactly-once); 1 is a single producer.
    pub transactional_producers: usize,
    /// Static group membership (`group.instance.id`), stable across restarts
    /// like the transactional id: a restarted instance takes its old
    /// member's place at once, with no rebalance and no wait for the dead
    /// member's session to time out.
    pub group_instance_id: Option<String>,
    /// Records per transaction at most.
    pub max_batch: usize,
    /// How long the first record of a batch waits for company. Transactions
    /// cost a few round trips each; batching amortises them.
    pub max_batch_wait: Duration,
    /// Timeout of each blocking transactional call.
    pub call_timeout: Duration,
    /// How often [`Processor::tick`](crate::kafka::transactional::Processor::tick)
    /// runs; `None`: never.
    pub tick_interval: Option<Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoopError {
    #[error("kafka: {0}")]
    Kafka(#[from] KafkaError),
    #[error("processor: {0}")]
    Processor(#[from] ProcessorError),
}

impl LoopError {
    /// Whether starting the loop again in this process cannot help: this
    /// instance was fenced out of its group by another with its identity,
    /// or the configuration is wrong. Everything else (a broker away, a
    /// restore cut short, a producer that cannot be rebuilt yet) is cured by
    /// new clients and a fresh restore, which is what a restart does.
    pub fn is_fatal(&self) -> bool {
        match self {
            Self::Kafka(err) => {
                is_fatal_consumer_error(err) || matches!(err, KafkaError::ClientCreation(_))
            }
            Self::Processor(_) => false,
        }
    }
}
