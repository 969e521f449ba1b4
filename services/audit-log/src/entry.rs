//! What a consumed Kafka record becomes in the audit trail.
//!
//! * An account event joins the chain of its account, a transfer event the
//!   chain of its transfer.
//! * A *rejected* command result joins the chain of the account it was aimed
//!   at (record type `command_rejected`, no stream sequence, keyed by its
//!   command id): an auditor reading one account sees what happened to it and
//!   what was refused, in the order the audit log learnt of it. An accepted
//!   result adds nothing the events it names do not already record, so it is
//!   skipped.
//! * Anything undecodable goes to the dead-letter topic.

use chrono::{DateTime, Utc};
use eventbank_events::{
    AccountEvent, CommandOutcome, CommandResult, DomainEvent, EventEnvelope, TopicKind,
    TransferEvent, wire,
};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::canonical::to_micros;

/// The record type of a rejected command in the trail.
pub const COMMAND_REJECTED: &str = "command_rejected";

/// Which kind of chain a stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StreamKind {
    Account,
    Transfer,
}

impl StreamKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::Transfer => "transfer",
        }
    }
}

/// A record about to be appended; its position and hashes are decided by the
/// store, under the stream's lock.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    pub stream_id: Uuid,
    pub stream_kind: StreamKind,
    /// The event's stream sequence; `None` for a rejection.
    pub sequence: Option<i64>,
    /// The event id, or the command id of a rejection: unique in the trail.
    pub event_id: Uuid,
    pub record_type: &'static str,
    /// The whole decoded record (envelope or command result), re-serialized.
    pub payload: Value,
    /// Cut to microseconds, as stored.
    pub occurred_at: DateTime<Utc>,
}

/// The verdict on one consumed record.
#[derive(Debug, Clone, PartialEq)]
pub enum Classified {
    Record(Box<NewEntry>),
    /// Nothing to record (an accepted command result).
    Skip,
    /// Cannot be recorded; the reason goes into the dead letter.
    Dead(String),
}

/// Decodes a record read from `kind`'s topic.
pub fn classify(kind: TopicKind, value: Option<&[u8]>) -> Classified {
    let Some(bytes) = value else {
        return Classified::Dead("record has no value".to_owned());
    };
    let entry = match kind {
        TopicKind::AccountEvents => event_entry::<AccountEvent>(StreamKind::Account, bytes),
        TopicKind::TransferEvents => event_entry::<TransferEvent>(StreamKind::Transfer, bytes),
        TopicKind::CommandResults => match wire::decode::<CommandResult>(bytes) {
            Ok(result) => match &result.outcome {
                CommandOutcome::Accepted { .. } => return Classified::Skip,
                CommandOutcome::Rejected { .. } => Ok(NewEntry {
                    stream_id: result.account_id.as_uuid(),
                    stream_kind: StreamKind::Account,
                    sequence: None,
                    event_id: result.command_id.as_uuid(),
                    record_type: COMMAND_REJECTED,
                    payload: to_value(&result),
                    occurred_at: to_micros(result.processed_at),
                }),
            },
            Err(err) => return Classified::Dead(err.to_string()),
        },
        other => Err(format!("audit-log does not consume {other}")),
    };
    match entry.and_then(storable) {
        Ok(entry) => Classified::Record(Box::new(entry)),
        Err(reason) => Classified::Dead(reason),
    }
}

/// An event envelope's entry in its stream's chain; undecodable bytes and a
/// sequence PostgreSQL cannot hold are the reasons it is dead-lettered.
fn event_entry<E: DomainEvent>(stream_kind: StreamKind, bytes: &[u8]) -> Result<NewEntry, String> {
    let envelope: EventEnvelope<E> = wire::decode(bytes).map_err(|err| err.to_string())?;
    let sequence = i64::try_from(envelope.sequence).map_err(|_| {
        format!(
            "sequence {} does not fit a PostgreSQL bigint",
            envelope.sequence
        )
    })?;
    Ok(NewEntry {
        stream_id: envelope.stream_id.as_uuid(),
        stream_kind,
        sequence: Some(sequence),
        event_id: envelope.event_id.as_uuid(),
        record_type: envelope.event.event_type(),
        payload: to_value(&envelope),
        occurred_at: to_micros(envelope.occurred_at),
    })
}

fn to_value<T: Serialize>(record: &T) -> Value {
    // Every schema type serializes to JSON (it was just decoded from it).
    serde_json::to_value(record).unwrap_or(Value::Null)
}

/// PostgreSQL's `jsonb` cannot hold a NUL character; such a record would fail
/// its batch on every retry and stall the partition, so it is dead-lettered.
fn storable(entry: NewEntry) -> Result<NewEntry, String> {
    if contains_nul(&entry.payload) {
        return Err("record contains a NUL character, which PostgreSQL jsonb cannot store".into());
    }
    Ok(entry)
}

fn contains_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(contains_nul),
        Value::Object(map) => map
            .iter()
            .any(|(key, value)| key.contains('\0') || contains_nul(value)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use eventbank_events::testing::{deposited, envelope};
    use eventbank_events::{
        AccountEventEnvelope, AccountId, CommandId, CorrelationId, Money, RejectionCode,
    };

    use super::*;

    /// A deposit that happened at a time with sub-microsecond digits.
    fn deposit() -> AccountEventEnvelope {
        let mut deposit = envelope(AccountId::new().into(), 2, deposited(500, 500));
        deposit.occurred_at = Utc.timestamp_opt(1_700_000_000, 123_456_789).unwrap();
        deposit
    }

    fn result(outcome: CommandOutcome) -> CommandResult {
        CommandResult::new(
            CommandId::new(),
            AccountId::new(),
            CorrelationId::new(),
            Utc::now(),
            outcome,
        )
    }

    #[test]
    fn account_events_join_their_account_chain() {
        let envelope = deposit();
        let Classified::Record(entry) =
            classify(TopicKind::AccountEvents, Some(&wire::encode(&envelope)))
        else {
            panic!("not recorded");
        };
        assert_eq!(entry.stream_id, envelope.stream_id.as_uuid());
        assert_eq!(entry.stream_kind, StreamKind::Account);
        assert_eq!(entry.sequence, Some(2));
        assert_eq!(entry.event_id, envelope.event_id.as_uuid());
        assert_eq!(entry.record_type, "money_deposited");
        assert_eq!(entry.payload["event"]["amount"], 500);
        assert_eq!(entry.occurred_at.timestamp_subsec_nanos(), 123_456_000);
    }

    #[test]
    fn only_rejections_of_command_results_are_recorded() {
        let accepted = result(CommandOutcome::Accepted {
            version: 2,
            balance: Money::new(5),
            events: vec![],
        });
        assert_eq!(
            classify(TopicKind::CommandResults, Some(&wire::encode(&accepted))),
            Classified::Skip
        );
        let rejected = result(CommandOutcome::rejected(
            RejectionCode::InsufficientFunds,
            "balance 5 < 7",
        ));
        let Classified::Record(entry) =
            classify(TopicKind::CommandResults, Some(&wire::encode(&rejected)))
        else {
            panic!("rejection not recorded");
        };
        assert_eq!(entry.stream_id, rejected.account_id.as_uuid());
        assert_eq!(entry.event_id, rejected.command_id.as_uuid());
        assert_eq!(entry.sequence, None);
        assert_eq!(entry.record_type, COMMAND_REJECTED);
        assert_eq!(
            entry.payload["outcome"]["rejection"]["code"],
            "insufficient_funds"
        );
    }

    #[test]
    fn undecodable_and_unstorable_records_are_dead() {
        assert!(matches!(
            classify(TopicKind::AccountEvents, Some(b"{not json")),
            Classified::Dead(reason) if reason.contains("invalid JSON")
        ));
        assert!(matches!(
            classify(TopicKind::TransferEvents, None),
            Classified::Dead(_)
        ));
        let nul = result(CommandOutcome::rejected(
            RejectionCode::InvalidAmount,
            "bad\0byte",
        ));
        assert!(matches!(
            classify(TopicKind::CommandResults, Some(&wire::encode(&nul))),
            Classified::Dead(reason) if reason.contains("NUL")
        ));
    }
}
