//! Applying a group rebalance without asking librdkafka which protocol it uses.
//!
//! rdkafka's default `ConsumerContext::rebalance` calls `rebalance_protocol()`
//! inside the callback: a synchronous request to librdkafka's main thread,
//! made from the thread that is serving that thread's rebalance event. A gdb
//! stack dump of a test hung for 20 minutes showed it stuck right there. The
//! protocol follows from the configured assignment strategy, so every
//! consumer that joins a group decides it once, at creation, and the
//! callback only assigns or unassigns.

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientContext, TopicPartitionList};

/// Whether `config`'s assignment strategy is cooperative (incremental
/// assign/unassign) rather than eager.
pub fn is_cooperative(config: &ClientConfig) -> bool {
    config
        .get("partition.assignment.strategy")
        .is_some_and(|strategy| strategy.contains("cooperative"))
}

/// What librdkafka's rebalance event asks for, applied for `cooperative` or
/// eager assignment. Failures are logged: the callback cannot return them,
/// and the next rebalance or poll error reports a consumer that fell out.
pub fn apply_rebalance<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    err: RDKafkaRespErr,
    partitions: &TopicPartitionList,
    cooperative: bool,
) {
    let result = if err == RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS {
        if cooperative {
            consumer.incremental_assign(partitions)
        } else {
            consumer.assign(partitions)
        }
    } else {
        if err != RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS {
            tracing::error!(?err, "rebalance error; giving up the assignment");
        }
        if cooperative {
            consumer.incremental_unassign(partitions)
        } else {
            consumer.unassign()
        }
    };
    if let Err(error) = result {
        tracing::error!(%error, "applying the rebalance failed");
    }
}

/// Whether a librdkafka global error is only a partition-EOF event, which
/// consumers ask for on purpose (lag and readiness) and must not log as an
/// error after every batch.
pub fn is_partition_eof(error: &KafkaError) -> bool {
    error.rdkafka_error_code() == Some(RDKafkaErrorCode::PartitionEOF)
}

/// How every consumer context reports librdkafka's global errors: all but
/// partition EOF, at error level.
pub fn log_client_error(error: &KafkaError, reason: &str) {
    if !is_partition_eof(error) {
        tracing::error!(%error, reason, "librdkafka error");
    }
}

/// What a group consumer does with newly assigned partitions before they
/// are assigned: a consumer that keeps its offsets elsewhere sets where each
/// starts reading. It runs inside the rebalance callback, so it must not block.
pub trait OnAssign: Send + Sync + 'static {
    fn on_assign(&self, partitions: &mut TopicPartitionList);
}

/// Nothing: start where the group's committed offsets say.
impl OnAssign for () {
    fn on_assign(&self, _: &mut TopicPartitionList) {}
}

/// The context of a group consumer: rebalances applied without the protocol
/// query, librdkafka errors logged except partition EOF, and `A` run on each
/// assignment.
#[derive(Debug, Clone, Copy)]
pub struct GroupContext<A = ()> {
    cooperative: bool,
    on_assign: A,
}

impl GroupContext {
    /// The context for a plain consumer created from `config`.
    pub fn for_config(config: &ClientConfig) -> Self {
        Self::with_on_assign(config, ())
    }
}

impl<A> GroupContext<A> {
    /// The context for a consumer created from `config` that runs
    /// `on_assign` on each assignment.
    pub fn with_on_assign(config: &ClientConfig, on_assign: A) -> Self {
        Self {
            cooperative: is_cooperative(config),
            on_assign,
        }
    }
}

impl<A: OnAssign> ClientContext for GroupContext<A> {
    fn error(&self, error: KafkaError, reason: &str) {
        log_client_error(&error, reason);
    }
}

impl<A: OnAssign> ConsumerContext for GroupContext<A> {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        partitions: &mut TopicPartitionList,
    ) {
        if err == RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS {
            self.on_assign.on_assign(partitions);
        }
        apply_rebalance(consumer, err, partitions, self.cooperative);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_protocol_follows_the_configured_strategy() {
        let mut config = ClientConfig::new();
        assert!(!is_cooperative(&config), "librdkafka's default is eager");
        config.set("partition.assignment.strategy", "cooperative-sticky");
        assert!(is_cooperative(&config));
        config.set("partition.assignment.strategy", "range,roundrobin");
        assert!(!is_cooperative(&config));
    }
}
