//! Follows `command-results` and feeds the [`ResultStore`].
//!
//! Group-less: every instance reads *all* partitions (a result is keyed by
//! command id, so it can land on any partition, and the request waiting for it
//! may be on any instance), from the beginning, so `GET /commands/{id}` knows
//! the outcomes written before a restart (as far back as the topic's
//! retention and the cache's capacity reach). `read_committed`: only results
//! whose transaction committed, i.e. whose events are really in the log.
//!
//! A record that does not decode is logged, counted and skipped: results are
//! the processor's output, not ours to dead-letter, and a waiter whose result
//! is unreadable simply times out into 202.
//!
//! Readiness (`command-results`) turns ready once every partition has reached
//! its end once; until then a cached answer could be missing.

use std::collections::HashSet;
use std::time::Duration;

use eventbank_events::{CommandOutcome, CommandResult, wire};
use eventbank_runtime::http::ReadinessCheck;
use eventbank_runtime::kafka::KafkaSettings;
use rdkafka::consumer::{Consumer, ConsumerContext, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use super::ApiStartError;
use super::metrics::ApiMetrics;
use super::result_store::ResultStore;

/// Never joined or committed: the consumer is assigned its partitions by hand.
/// librdkafka wants a `group.id` anyway.
const GROUP_ID: &str = "eventbank-account-command-results-listener";

const METADATA_TIMEOUT: Duration = Duration::from_secs(15);

/// Pause after a consumer error before polling again, so a broker outage does
/// not become a hot loop of error logs.
const ERROR_BACKOFF: Duration = Duration::from_millis(500);

/// Reports librdkafka's global errors through `tracing`, except the
/// partition-EOF events this consumer asks for on purpose (rdkafka's default
/// context would log each one at error level, i.e. after every result).
#[derive(Debug, Clone, Copy)]
struct ListenerContext;

impl ClientContext for ListenerContext {
    fn error(&self, error: KafkaError, reason: &str) {
        if error.rdkafka_error_code() != Some(RDKafkaErrorCode::PartitionEOF) {
            tracing::warn!(%error, reason, "command-results consumer: librdkafka error");
        }
    }
}

impl ConsumerContext for ListenerContext {}

pub struct ResultListener {
    consumer: StreamConsumer<ListenerContext>,
    topic: String,
    partitions: usize,
    results: ResultStore,
    metrics: ApiMetrics,
    readiness: ReadinessCheck,
}

eventbank_runtime::debug_fields!(ResultListener { topic, partitions });

impl ResultListener {
    /// Creates the consumer and assigns it every partition of `topic` from
    /// the beginning. Fails if the topic does not exist.
    pub async fn connect(
        settings: &KafkaSettings,
        topic: String,
        results: ResultStore,
        metrics: ApiMetrics,
        readiness: ReadinessCheck,
    ) -> Result<Self, ApiStartError> {
        let mut config = settings.consumer_config(GROUP_ID);
        // Partition EOF events tell when the backlog has been read (readiness).
        config.set("enable.partition.eof", "true");
        let assign_topic = topic.clone();
        // Metadata and assign are blocking librdkafka calls.
        let (consumer, partitions) = tokio::task::spawn_blocking(move || {
            let kafka = |source| ApiStartError::Listener {
                topic: assign_topic.clone(),
                source,
            };
            let consumer: StreamConsumer<ListenerContext> =
                config.create_with_context(ListenerContext).map_err(kafka)?;
            let metadata = consumer
                .fetch_metadata(Some(&assign_topic), METADATA_TIMEOUT)
                .map_err(kafka)?;
            let partitions: Vec<i32> = metadata
                .topics()
                .iter()
                .filter(|t| t.name() == assign_topic && t.error().is_none())
                .flat_map(|t| t.partitions().iter().map(|p| p.id()))
                .collect();
            if partitions.is_empty() {
                return Err(ApiStartError::MissingTopic {
                    topic: assign_topic.clone(),
                });
            }
            let mut assignment = TopicPartitionList::new();
            for partition in &partitions {
                assignment
                    .add_partition_offset(&assign_topic, *partition, Offset::Beginning)
                    .map_err(kafka)?;
            }
            consumer.assign(&assignment).map_err(kafka)?;
            Ok((consumer, partitions.len()))
        })
        .await
        .map_err(ApiStartError::Join)??;
        readiness.set_not_ready(format!("reading {topic} (0 of {partitions} partitions)"));
        Ok(Self {
            consumer,
            topic,
            partitions,
            results,
            metrics,
            readiness,
        })
    }

    /// Follows the topic until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::info!(topic = %self.topic, partitions = self.partitions, "following command results");
        let mut at_end: HashSet<i32> = HashSet::new();
        let mut caught_up = false;
        loop {
            let received = tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                received = self.consumer.recv() => received,
            };
            match received {
                Ok(message) => self.handle(message.payload()),
                Err(KafkaError::PartitionEOF(partition)) => {
                    if !caught_up {
                        at_end.insert(partition);
                        if at_end.len() >= self.partitions {
                            caught_up = true;
                            self.readiness.set_ready();
                            tracing::info!(
                                topic = %self.topic,
                                cached = self.results.len(),
                                "caught up with command results"
                            );
                        } else {
                            self.readiness.set_not_ready(format!(
                                "reading {} ({} of {} partitions)",
                                self.topic,
                                at_end.len(),
                                self.partitions
                            ));
                        }
                    }
                }
                Err(err) => {
                    tracing::warn!(topic = %self.topic, error = %err, "command-results consumer error");
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(ERROR_BACKOFF) => {}
                    }
                }
            }
        }
        tracing::info!(topic = %self.topic, "command-results listener stopped");
        let consumer = self.consumer;
        // Closing a consumer is a blocking librdkafka call.
        let _ = tokio::task::spawn_blocking(move || drop(consumer)).await;
    }

    fn handle(&self, payload: Option<&[u8]>) {
        match decode(payload) {
            Ok(result) => {
                let status = result.outcome.status();
                let code = match &result.outcome {
                    CommandOutcome::Accepted { .. } => "accepted",
                    CommandOutcome::Rejected { rejection } => rejection.code.as_str(),
                };
                self.results.complete(result);
                self.metrics
                    .result_received(status, code, self.results.len());
            }
            Err((reason, detail)) => {
                tracing::warn!(topic = %self.topic, reason, %detail, "skipping an undecodable command result");
                self.metrics.result_undecodable(reason);
            }
        }
    }
}

/// Decodes a record's value, or says why not (a metric label and a detail).
fn decode(payload: Option<&[u8]>) -> Result<CommandResult, (&'static str, String)> {
    let payload = payload.ok_or(("no_value", "record has no value".to_owned()))?;
    wire::decode::<CommandResult>(payload).map_err(|err| (err.code(), err.to_string()))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use eventbank_events::{AccountId, CommandId, CommandOutcome, CorrelationId, Money};

    use super::*;

    #[test]
    fn decodes_results_and_names_failures() {
        let result = CommandResult::new(
            CommandId::new(),
            AccountId::new(),
            CorrelationId::new(),
            Utc::now(),
            CommandOutcome::Accepted {
                version: 2,
                balance: Money::new(7),
                events: Vec::new(),
            },
        );
        assert_eq!(decode(Some(&wire::encode(&result))).unwrap(), result);
        assert_eq!(decode(None).unwrap_err().0, "no_value");
        assert_eq!(decode(Some(b"{")).unwrap_err().0, "invalid_json");
        assert_eq!(
            decode(Some(br#"{"schema_version":99}"#)).unwrap_err().0,
            "unsupported_version"
        );
    }
}
