//! Chain verification: recompute every hash from the stored columns and find
//! the first broken link.
//!
//! The verifier is fed each stream's head (what the writer last appended)
//! and its records in position order, and checks, per record, that
//!
//! 1. positions run 1, 2, 3, … (a deleted or renumbered record shows here);
//! 2. `prev_hash` is the previous record's `hash` (genesis for the first);
//! 3. `hash` is `SHA-256(prev_hash ‖ canonical columns)` (any edit of a hashed
//!    column shows here, at the edited record);
//!
//! and, at the end of the stream, that the chain ends where the head says it
//! does (a removed tail shows here).

use serde::Serialize;
use uuid::Uuid;

use crate::canonical::{GENESIS, Hash, hash_from_bytes, to_hex};
use crate::record::AuditRecord;

/// What the writer recorded as a stream's end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamHead {
    pub stream_id: Uuid,
    pub last_position: i64,
    pub last_hash: Vec<u8>,
}

/// Why a link is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// A position is missing or out of order.
    PositionGap,
    /// The record does not point at its predecessor's hash.
    PrevHashMismatch,
    /// The record's content does not hash to its stored hash: it was altered.
    HashMismatch,
    /// The chain does not end where the stream's head says it does.
    HeadMismatch,
}

/// The first broken link found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BrokenLink {
    pub stream_id: Uuid,
    /// The position at which the chain breaks.
    pub position: i64,
    pub problem: Problem,
    /// The hash the chain requires there (hex), when a hash is involved.
    pub expected_hash: Option<String>,
    /// The hash stored there (hex).
    pub stored_hash: Option<String>,
    pub detail: String,
}

/// Streaming verifier; feed it rows ordered by stream, then position.
#[derive(Debug, Default)]
pub struct ChainVerifier {
    current: Option<Current>,
    pub streams_checked: u64,
    pub records_checked: u64,
}

#[derive(Debug)]
struct Current {
    head: Option<StreamHead>,
    stream_id: Uuid,
    last_position: i64,
    last_hash: Hash,
}

impl ChainVerifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts the next stream (finishing the previous one). `head` is `None`
    /// when records exist without a head row.
    pub fn start_stream(
        &mut self,
        stream_id: Uuid,
        head: Option<StreamHead>,
    ) -> Result<(), BrokenLink> {
        self.finish()?;
        self.streams_checked += 1;
        self.current = Some(Current {
            head,
            stream_id,
            last_position: 0,
            last_hash: GENESIS,
        });
        Ok(())
    }

    /// The id of the stream being checked.
    pub fn current_stream(&self) -> Option<Uuid> {
        self.current.as_ref().map(|current| current.stream_id)
    }

    /// Checks the stream's next record.
    pub fn push(&mut self, record: &AuditRecord) -> Result<(), BrokenLink> {
        let Some(current) = self.current.as_mut() else {
            return Err(broken(
                record.stream_id,
                record.position,
                Problem::HeadMismatch,
                None,
                None,
                "record outside any stream".into(),
            ));
        };
        self.records_checked += 1;
        let expected_position = current.last_position + 1;
        if record.position != expected_position {
            return Err(broken(
                record.stream_id,
                expected_position,
                Problem::PositionGap,
                None,
                Some(to_hex(&record.hash)),
                format!(
                    "expected position {expected_position}, found {}",
                    record.position
                ),
            ));
        }
        if record.prev_hash.as_slice() != current.last_hash.as_slice() {
            return Err(broken(
                record.stream_id,
                record.position,
                Problem::PrevHashMismatch,
                Some(to_hex(&current.last_hash)),
                Some(to_hex(&record.prev_hash)),
                "prev_hash is not the previous record's hash".into(),
            ));
        }
        let recomputed = record.fields().hash(&current.last_hash);
        if record.hash.as_slice() != recomputed.as_slice() {
            return Err(broken(
                record.stream_id,
                record.position,
                Problem::HashMismatch,
                Some(to_hex(&recomputed)),
                Some(to_hex(&record.hash)),
                "the record's content does not match its hash: it was altered after recording"
                    .into(),
            ));
        }
        current.last_position = record.position;
        current.last_hash = hash_from_bytes(&record.hash).unwrap_or(GENESIS);
        Ok(())
    }

    /// Finishes the last stream; call once after the last row.
    pub fn finish(&mut self) -> Result<(), BrokenLink> {
        let Some(current) = self.current.take() else {
            return Ok(());
        };
        let Some(head) = current.head else {
            return Err(broken(
                current.stream_id,
                current.last_position,
                Problem::HeadMismatch,
                None,
                Some(to_hex(&current.last_hash)),
                "the stream has records but no head: its head row was removed".into(),
            ));
        };
        if head.last_position != current.last_position
            || head.last_hash.as_slice() != current.last_hash.as_slice()
        {
            return Err(broken(
                current.stream_id,
                head.last_position.max(current.last_position),
                Problem::HeadMismatch,
                Some(to_hex(&head.last_hash)),
                Some(to_hex(&current.last_hash)),
                format!(
                    "the head says the chain ends at position {}, the records end at {}",
                    head.last_position, current.last_position
                ),
            ));
        }
        Ok(())
    }
}

fn broken(
    stream_id: Uuid,
    position: i64,
    problem: Problem,
    expected_hash: Option<String>,
    stored_hash: Option<String>,
    detail: String,
) -> BrokenLink {
    BrokenLink {
        stream_id,
        position,
        problem,
        expected_hash,
        stored_hash,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use serde_json::json;

    use super::*;

    const STREAM: Uuid = Uuid::from_u128(7);

    /// A valid chain of `n` records.
    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS;
        (1..=n)
            .map(|position| {
                let mut record = AuditRecord {
                    stream_id: STREAM,
                    position,
                    stream_kind: "account".into(),
                    sequence: Some(position),
                    event_id: Uuid::from_u128(1000 + position as u128),
                    record_type: "money_deposited".into(),
                    payload: json!({"event": {"amount": position * 10}}),
                    kafka_topic: "account-events".into(),
                    kafka_partition: 0,
                    kafka_offset: position,
                    occurred_at: DateTime::<Utc>::UNIX_EPOCH,
                    recorded_at: DateTime::<Utc>::UNIX_EPOCH,
                    prev_hash: prev.to_vec(),
                    hash: vec![],
                };
                let hash = record.fields().hash(&prev);
                record.hash = hash.to_vec();
                prev = hash;
                record
            })
            .collect()
    }

    fn head_of(records: &[AuditRecord]) -> StreamHead {
        let last = records.last().unwrap();
        StreamHead {
            stream_id: STREAM,
            last_position: last.position,
            last_hash: last.hash.clone(),
        }
    }

    fn verify(records: &[AuditRecord], head: Option<StreamHead>) -> Result<(), BrokenLink> {
        let mut verifier = ChainVerifier::new();
        verifier.start_stream(STREAM, head)?;
        for record in records {
            verifier.push(record)?;
        }
        verifier.finish()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let records = chain(5);
        verify(&records, Some(head_of(&records))).expect("intact");
    }

    #[test]
    fn an_altered_payload_breaks_at_that_record() {
        let mut records = chain(5);
        let head = head_of(&records);
        records[2].payload["event"]["amount"] = json!(999_999);
        let err = verify(&records, Some(head)).unwrap_err();
        assert_eq!(err.position, 3);
        assert_eq!(err.problem, Problem::HashMismatch);
        assert_eq!(err.stored_hash, Some(to_hex(&records[2].hash)));
    }

    #[test]
    fn an_altered_type_or_sequence_breaks_too() {
        let mut records = chain(4);
        let head = head_of(&records);
        records[1].record_type = "money_withdrawn".into();
        assert_eq!(
            verify(&records, Some(head.clone())).unwrap_err().position,
            2
        );
        let mut records = chain(4);
        records[3].sequence = Some(40);
        assert_eq!(verify(&records, Some(head)).unwrap_err().position, 4);
    }

    #[test]
    fn a_rehashed_record_breaks_the_next_link() {
        let mut records = chain(4);
        let head = head_of(&records);
        records[1].payload = json!({"forged": true});
        let prev = hash_from_bytes(&records[1].prev_hash).unwrap();
        records[1].hash = records[1].fields().hash(&prev).to_vec();
        let err = verify(&records, Some(head)).unwrap_err();
        assert_eq!(err.position, 3);
        assert_eq!(err.problem, Problem::PrevHashMismatch);
    }

    #[test]
    fn a_missing_record_is_a_gap() {
        let mut records = chain(4);
        let head = head_of(&records);
        records.remove(1);
        let err = verify(&records, Some(head)).unwrap_err();
        assert_eq!((err.position, err.problem), (2, Problem::PositionGap));
    }

    #[test]
    fn a_removed_tail_disagrees_with_the_head() {
        let mut records = chain(4);
        let head = head_of(&records);
        records.pop();
        let err = verify(&records, Some(head)).unwrap_err();
        assert_eq!((err.position, err.problem), (4, Problem::HeadMismatch));
        let records = chain(2);
        assert_eq!(
            verify(&records, None).unwrap_err().problem,
            Problem::HeadMismatch
        );
    }

    #[test]
    fn counts_streams_and_records() {
        let records = chain(3);
        let mut verifier = ChainVerifier::new();
        verifier
            .start_stream(STREAM, Some(head_of(&records)))
            .unwrap();
        for record in &records {
            verifier.push(record).unwrap();
        }
        verifier.finish().unwrap();
        assert_eq!((verifier.streams_checked, verifier.records_checked), (1, 3));
    }
}
