//! Turning the saga's actions into records.

use chrono::{DateTime, Utc};
use eventbank_events::{
    AccountCommand, CommandEnvelope, CommandId, EventEnvelope, EventId, TopicKind, Topics,
    TransferEvent, TransferEventEnvelope, TransferId, TransferSagaSnapshot, TransferStep,
    WireRecord, wire,
};
use eventbank_runtime::kafka::OutputRecord;

use crate::domain::Action;

/// The topics the saga writes.
#[derive(Debug, Clone)]
pub struct SagaTopics {
    pub inbox: String,
    pub commands: String,
    pub transfer_events: String,
    pub state: String,
}

impl SagaTopics {
    pub fn new(topics: &Topics) -> Self {
        Self {
            inbox: topics.name(TopicKind::TransferSagaInbox),
            commands: topics.name(TopicKind::AccountCommands),
            transfer_events: topics.name(TopicKind::TransferEvents),
            state: topics.name(TopicKind::TransferState),
        }
    }

    /// The record `action` of `saga` produces at `now`.
    pub fn action(
        &self,
        saga: &TransferSagaSnapshot,
        action: &Action,
        now: DateTime<Utc>,
    ) -> OutputRecord {
        match *action {
            Action::Credit {
                deadline,
                causation,
            } => self.command(
                saga,
                TransferStep::Credit,
                causation,
                now,
                AccountCommand::CreditForTransfer {
                    transfer_id: saga.transfer_id,
                    from: saga.from,
                    amount: saga.amount,
                    currency: saga.currency,
                    deadline: Some(deadline),
                },
            ),
            Action::Refund { reason, causation } => self.command(
                saga,
                TransferStep::Refund,
                causation,
                now,
                AccountCommand::RefundTransfer {
                    transfer_id: saga.transfer_id,
                    amount: saga.amount,
                    reason,
                },
            ),
            Action::Complete { causation } => self.event(
                saga,
                TransferStep::Credit,
                causation,
                now,
                TransferEvent::TransferCompleted {
                    from: saga.from,
                    to: saga.to,
                    amount: saga.amount,
                    currency: saga.currency,
                },
            ),
            Action::Fail { reason, causation } => self.event(
                saga,
                TransferStep::Refund,
                causation,
                now,
                TransferEvent::TransferFailed {
                    from: saga.from,
                    to: saga.to,
                    amount: saga.amount,
                    currency: saga.currency,
                    reason,
                },
            ),
        }
    }

    /// The saga's state, on the partition of `transfer-state` that matches
    /// its inbox partition (co-partitioned by construction, whatever the
    /// partitioner).
    pub fn snapshot(&self, partition: i32, saga: &TransferSagaSnapshot) -> OutputRecord {
        OutputRecord {
            topic: self.state.clone(),
            partition: Some(partition),
            key: wire::encode_key(saga.transfer_id),
            payload: Some(wire::encode(saga)),
            headers: Vec::new(),
        }
    }

    /// Deletes a forgotten transfer's state from `transfer-state`, on the
    /// partition its snapshots went to.
    pub fn tombstone(&self, partition: i32, transfer_id: TransferId) -> OutputRecord {
        OutputRecord {
            topic: self.state.clone(),
            partition: Some(partition),
            key: wire::encode_key(transfer_id),
            payload: None,
            headers: Vec::new(),
        }
    }

    fn command(
        &self,
        saga: &TransferSagaSnapshot,
        step: TransferStep,
        causation: Option<EventId>,
        now: DateTime<Utc>,
        command: AccountCommand,
    ) -> OutputRecord {
        let account_id = match step {
            TransferStep::Credit => saga.to,
            TransferStep::Debit | TransferStep::Refund => saga.from,
        };
        // Derived from transfer and leg: a retry or replay is the same
        // command to the account, which answers it once.
        let envelope = CommandEnvelope {
            causation_id: causation,
            ..CommandEnvelope::new(
                CommandId::for_transfer_step(saga.transfer_id, step),
                account_id,
                saga.correlation_id,
                now,
                command,
            )
        };
        OutputRecord {
            topic: self.commands.clone(),
            partition: None,
            key: wire::encode_key(account_id),
            payload: Some(wire::encode(&envelope)),
            headers: Vec::new(),
        }
    }

    fn event(
        &self,
        saga: &TransferSagaSnapshot,
        decided_by: TransferStep,
        causation: EventId,
        now: DateTime<Utc>,
        event: TransferEvent,
    ) -> OutputRecord {
        // A transfer's stream has exactly one event: how it ended.
        let envelope: TransferEventEnvelope = EventEnvelope {
            schema_version: TransferEventEnvelope::CURRENT_VERSION,
            event_id: EventId::new(),
            stream_id: saga.transfer_id.into(),
            sequence: 1,
            occurred_at: now,
            command_id: CommandId::for_transfer_step(saga.transfer_id, decided_by),
            causation_id: Some(causation),
            correlation_id: saga.correlation_id,
            event,
        };
        OutputRecord {
            topic: self.transfer_events.clone(),
            partition: None,
            key: wire::encode_key(saga.transfer_id),
            payload: Some(wire::encode(&envelope)),
            headers: Vec::new(),
        }
    }
}
