//! Sending one command and waiting (bounded) for its result.
//!
//! 1. A request with an `Idempotency-Key` whose command's result is already
//!    cached is answered from the cache; nothing is produced. The cached
//!    result carries the fingerprint of the request its id is bound to: a
//!    different request under the same key is refused with 422
//!    `idempotency_key_reused`, as the processor (the authority) would.
//! 2. Otherwise the request registers its waiter, *then* produces the command
//!    to `account-commands` (key: the account id), so a result that arrives
//!    before the producer's acknowledgement is not missed.
//! 3. Producing and waiting share one deadline, `api.result_timeout_ms`:
//!    * the producer refuses the record (local queue full) or Kafka reports a
//!      delivery error → 503 `kafka_unavailable`. With a delivery error the
//!      command *may* still have been written (a lost acknowledgement), so the
//!      message recommends retrying with an `Idempotency-Key`;
//!    * the deadline passes before delivery or before the result → 202
//!      pending: the command is on its way and may still take effect, and its
//!      outcome will appear at `GET /commands/{id}`.
//! 4. The processor answers a reused key with an `idempotency_key_reused`
//!    rejection under the same command id. That answer is for the request
//!    that reused the key: a retry of the original request waiting on the
//!    same id ignores it and keeps waiting for the real outcome.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use eventbank_events::{
    CommandEnvelope, CommandId, CommandOutcome, CommandResult, Fingerprint, RejectionCode, wire,
};
use eventbank_runtime::http::ApiError;
use eventbank_runtime::kafka::headers_of;
use eventbank_runtime::telemetry::propagation::inject_current;
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio::time::{Instant, timeout_at};

use super::metrics::ApiMetrics;
use super::outcome_responses::CommandContext;
use super::result_store::ResultStore;

/// A command ready to send, with what its answer needs.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub envelope: CommandEnvelope,
    pub context: CommandContext,
    /// The ids came from an `Idempotency-Key`: a retry may already have an outcome.
    pub idempotent: bool,
}

/// How sending went, when Kafka did not fail.
#[derive(Debug, Clone)]
pub enum Sent {
    /// The result arrived in time.
    Completed(Arc<CommandResult>),
    /// The result was already known; nothing was produced.
    Replayed(Arc<CommandResult>),
    /// No result before the deadline.
    Pending,
}

pub struct CommandSender {
    producer: FutureProducer,
    topic: String,
    results: ResultStore,
    metrics: ApiMetrics,
    timeout: Duration,
}

eventbank_runtime::debug_fields!(CommandSender { topic, timeout });

fn unavailable(err: &KafkaError) -> ApiError {
    ApiError::dependency_failed(
        "kafka_unavailable",
        "the command could not be handed to Kafka; it may or may not take effect — \
         retry with the same Idempotency-Key to be safe",
        err,
    )
}

fn reused(command_id: CommandId) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        RejectionCode::IdempotencyKeyReused.as_str(),
        format!(
            "this Idempotency-Key (command {command_id}) was already used for a different request; \
             nothing was changed — use a new key for a new request"
        ),
    )
}

/// Whether `result` is the processor's refusal of a reused key.
pub fn is_reuse_refusal(result: &CommandResult) -> bool {
    matches!(&result.outcome, CommandOutcome::Rejected { rejection }
        if rejection.code == RejectionCode::IdempotencyKeyReused)
}

/// Whether `result`'s command id is bound to a request other than the one
/// with `fingerprint` (a result without fingerprint predates them: no).
fn bound_elsewhere(result: &CommandResult, fingerprint: &Fingerprint) -> bool {
    result
        .fingerprint
        .as_ref()
        .is_some_and(|bound| bound != fingerprint)
}

impl CommandSender {
    pub fn new(
        producer: FutureProducer,
        topic: String,
        results: ResultStore,
        metrics: ApiMetrics,
        timeout: Duration,
    ) -> Self {
        Self {
            producer,
            topic,
            results,
            metrics,
            timeout,
        }
    }

    pub fn results(&self) -> &ResultStore {
        &self.results
    }

    pub async fn send(&self, outgoing: Outgoing) -> Result<Sent, ApiError> {
        let Outgoing {
            envelope,
            context,
            idempotent,
        } = outgoing;
        let command_id = envelope.command_id;
        let command_type = envelope.command.command_type();
        let fingerprint = Fingerprint::of(&envelope);
        if idempotent && let Some(result) = self.results.get(command_id) {
            if bound_elsewhere(&result, &fingerprint) {
                tracing::info!(%command_id, "Idempotency-Key reused for a different request; refused");
                return Err(reused(command_id));
            }
            tracing::info!(%command_id, "repeated Idempotency-Key; answering from the result cache");
            self.metrics.idempotent_replay();
            return Ok(Sent::Replayed(result));
        }
        let deadline = Instant::now() + self.timeout;
        self.results.remember_context(command_id, context);
        let mut waiter = self.results.wait_for(command_id);

        let key = wire::encode_key(envelope.account_id);
        let payload = wire::encode(&envelope);
        // The request's trace continues in the processor (no headers at all
        // when traces are off).
        let mut trace = Vec::new();
        inject_current(&mut trace);
        let mut record = FutureRecord::to(&self.topic).key(&key).payload(&payload);
        if !trace.is_empty() {
            record = record.headers(headers_of(&trace));
        }
        let delivery = match self.producer.send_result(record) {
            Ok(delivery) => delivery,
            Err((err, _record)) => {
                tracing::warn!(%command_id, error = %err, "could not enqueue the command");
                self.metrics.produce_failed(command_type);
                return Err(unavailable(&err));
            }
        };
        match timeout_at(deadline, delivery).await {
            Ok(Ok(Ok(_delivery))) => {
                self.metrics.command_sent(command_type);
                tracing::debug!(%command_id, command = command_type, "command sent");
            }
            Ok(Ok(Err((err, _message)))) => {
                tracing::warn!(%command_id, error = %err, "command delivery failed");
                self.metrics.produce_failed(command_type);
                return Err(unavailable(&err));
            }
            Ok(Err(_canceled)) => {
                // The producer was dropped with the record queued: shutting down.
                self.metrics.produce_failed(command_type);
                return Err(ApiError::unavailable(
                    "kafka_unavailable",
                    "the service is shutting down; retry with the same Idempotency-Key",
                ));
            }
            Err(_elapsed) => {
                tracing::warn!(%command_id, "Kafka did not acknowledge the command in time");
                self.metrics.result_timed_out(command_type);
                return Ok(Sent::Pending);
            }
        }
        loop {
            match timeout_at(deadline, waiter.result()).await {
                Ok(Some(result)) if is_reuse_refusal(&result) => {
                    if result.fingerprint.as_ref() == Some(&fingerprint) {
                        // Another request reused our key; that refusal is
                        // its answer, not ours.
                        waiter = self.results.wait_for(command_id);
                        continue;
                    }
                    return Err(reused(command_id));
                }
                Ok(Some(result)) if bound_elsewhere(&result, &fingerprint) => {
                    return Err(reused(command_id));
                }
                Ok(Some(result)) => return Ok(Sent::Completed(result)),
                // The store outlives every waiter, so this is only a theoretical race.
                Ok(None) | Err(_) => {
                    tracing::info!(%command_id, "no result in time; answering 202");
                    self.metrics.result_timed_out(command_type);
                    return Ok(Sent::Pending);
                }
            }
        }
    }
}
