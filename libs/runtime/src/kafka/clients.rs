//! Kafka clients built from [`KafkaSettings`]: the same base config with the
//! user's overrides everywhere, and stable transactional ids.

use rdkafka::ClientConfig;
use rdkafka::admin::AdminClient;
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::consumer::{ConsumerContext, StreamConsumer};
use rdkafka::error::KafkaResult;
use rdkafka::producer::FutureProducer;

use super::KafkaSettings;

/// A `transactional.id` that is stable across restarts of the same instance (a
/// pod name, say), so a restarted instance fences and aborts its predecessor's
/// open transaction at once instead of leaving `read_committed` readers blocked
/// until the broker's transaction timeout.
pub fn transactional_id(settings: &KafkaSettings, role: &str, instance: &str) -> String {
    format!("{}eventbank-{role}-{instance}", settings.topic_prefix)
}

impl KafkaSettings {
    /// Connection and security settings shared by every client.
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap_servers);
        self.apply_security(&mut config);
        config
    }

    fn with_overrides(&self, mut config: ClientConfig) -> ClientConfig {
        for (key, value) in &self.client {
            config.set(key, value);
        }
        config
    }

    /// A consumer that sees only committed transactions and never commits offsets
    /// on its own: offsets are committed with the results they produced.
    pub fn consumer_config(&self, group_id: &str) -> ClientConfig {
        let mut config = self.client_config();
        config
            .set("group.id", group_id)
            .set("isolation.level", "read_committed")
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("partition.assignment.strategy", "cooperative-sticky")
            .set("enable.partition.eof", "false")
            // A client waits on its command's result: a fetch that idles up
            // to librdkafka's default 500 ms on a quiet partition would be
            // most of that wait.
            .set("fetch.wait.max.ms", "20");
        self.with_overrides(config)
    }

    /// An idempotent producer: no duplicates from its own retries, acks from
    /// every in-sync replica.
    pub fn producer_config(&self) -> ClientConfig {
        let mut config = self.client_config();
        config
            .set("enable.idempotence", "true")
            .set("acks", "all")
            // The Java client's partitioner: a key lands on the same partition
            // whoever produces it, which co-partitioning depends on.
            .set("partitioner", "murmur2_random")
            // Every produce is on a client's path (a command waiting for its
            // answer); batches still form from what queues while a request
            // is in flight. 5 ms here was 5 ms on every hop.
            .set("linger.ms", "1")
            .set("compression.type", "lz4");
        self.with_overrides(config)
    }

    /// A producer for read-process-write transactions under `transactional_id`.
    pub fn transactional_producer_config(&self, transactional_id: &str) -> ClientConfig {
        let mut config = self.producer_config();
        config
            .set("transactional.id", transactional_id)
            .set(
                "transaction.timeout.ms",
                self.transaction_timeout_ms.to_string(),
            )
            // Right after a commit the coordinator may still be completing it
            // and answers the next transaction's first request with
            // CONCURRENT_TRANSACTIONS; librdkafka retries after this back-off
            // (100 ms by default), which would stall the next commit.
            .set("retry.backoff.ms", "10");
        self.with_overrides(config)
    }

    pub fn admin_client(&self) -> KafkaResult<AdminClient<DefaultClientContext>> {
        self.with_overrides(self.client_config()).create()
    }

    pub fn stream_consumer<C: ConsumerContext + 'static>(
        &self,
        group_id: &str,
        context: C,
    ) -> KafkaResult<StreamConsumer<C>> {
        self.consumer_config(group_id).create_with_context(context)
    }

    pub fn producer(&self) -> KafkaResult<FutureProducer> {
        self.producer_config().create()
    }

    pub fn transactional_producer<C: ClientContext + 'static>(
        &self,
        transactional_id: &str,
        context: C,
    ) -> KafkaResult<FutureProducer<C>> {
        self.transactional_producer_config(transactional_id)
            .create_with_context(context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_win_and_exactly_once_defaults_are_set() {
        let mut settings = KafkaSettings::default();
        settings.client.insert("linger.ms".into(), "20".into());
        let producer = settings.transactional_producer_config("tx-1");
        assert_eq!(producer.get("linger.ms"), Some("20"));
        assert_eq!(producer.get("enable.idempotence"), Some("true"));
        assert_eq!(producer.get("transactional.id"), Some("tx-1"));
        let consumer = settings.consumer_config("g");
        assert_eq!(consumer.get("isolation.level"), Some("read_committed"));
        assert_eq!(consumer.get("enable.auto.commit"), Some("false"));
    }

    #[test]
    fn transactional_ids_are_stable_and_prefixed() {
        let settings = KafkaSettings {
            topic_prefix: "t1.".into(),
            ..KafkaSettings::default()
        };
        let id = transactional_id(&settings, "account-processor", "pod-0");
        assert_eq!(
            id,
            transactional_id(&settings, "account-processor", "pod-0")
        );
        assert_eq!(id, "t1.eventbank-account-processor-pod-0");
    }
}
