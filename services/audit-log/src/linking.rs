//! The writer's half of the hash chain (the verifier's is [`crate::chain`]):
//! new entries linked onto the ends of their streams' chains. Pure, so the
//! chain's rules are tested without PostgreSQL; `store::append` reads the
//! heads, calls [`link`] and writes what it returns.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::canonical::{ChainedFields, GENESIS, Hash};
use crate::store::Sourced;

/// A stream's end: its last position and that record's hash.
pub type Head = (i64, Hash);

/// An entry placed in its chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Link<'a> {
    pub sourced: &'a Sourced,
    pub position: i64,
    pub prev_hash: Hash,
    pub hash: Hash,
}

/// What linking a batch gives.
#[derive(Debug, Default)]
pub struct Linked<'a> {
    /// In the order of the entries.
    pub links: Vec<Link<'a>>,
    /// The new end of every stream that grew.
    pub heads: BTreeMap<Uuid, Head>,
    /// Entries left out because their event id is already in the trail (or
    /// earlier in the batch): a command's result repeated for a retried
    /// command id, a redelivered event.
    pub duplicates: u64,
}

/// Links `entries`, in order, onto `heads` (a stream without one starts at
/// genesis). `recorded` holds the event ids already in the trail.
pub fn link<'a>(
    entries: &'a [Sourced],
    mut heads: BTreeMap<Uuid, Head>,
    recorded: &HashSet<Uuid>,
    recorded_at: DateTime<Utc>,
) -> Linked<'a> {
    let mut seen: HashSet<Uuid> = HashSet::new();
    let mut linked = Linked::default();
    for sourced in entries {
        let entry = &sourced.entry;
        if recorded.contains(&entry.event_id) || !seen.insert(entry.event_id) {
            linked.duplicates += 1;
            continue;
        }
        let (last_position, prev_hash) =
            heads.get(&entry.stream_id).copied().unwrap_or((0, GENESIS));
        let position = last_position + 1;
        let hash = ChainedFields {
            stream_id: entry.stream_id,
            stream_kind: entry.stream_kind.as_str(),
            position,
            sequence: entry.sequence,
            event_id: entry.event_id,
            record_type: entry.record_type,
            payload: &entry.payload,
            kafka_topic: &sourced.topic,
            kafka_partition: sourced.partition,
            kafka_offset: sourced.offset,
            occurred_at: entry.occurred_at,
            recorded_at,
        }
        .hash(&prev_hash);
        heads.insert(entry.stream_id, (position, hash));
        linked.heads.insert(entry.stream_id, (position, hash));
        linked.links.push(Link {
            sourced,
            position,
            prev_hash,
            hash,
        });
    }
    linked
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;
    use crate::chain::{ChainVerifier, Problem, StreamHead};
    use crate::entry::{NewEntry, StreamKind};
    use crate::record::AuditRecord;

    fn at(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 5, 12, 0, second).unwrap()
    }

    fn sourced(stream: Uuid, event: Uuid, offset: i64) -> Sourced {
        Sourced {
            entry: NewEntry {
                stream_id: stream,
                stream_kind: StreamKind::Account,
                sequence: Some(offset),
                event_id: event,
                record_type: "MoneyDeposited",
                payload: json!({ "offset": offset }),
                occurred_at: at(1),
            },
            topic: "account-events".into(),
            partition: 0,
            offset,
        }
    }

    fn stored(link: &Link<'_>, recorded_at: DateTime<Utc>) -> AuditRecord {
        let (entry, source) = (&link.sourced.entry, link.sourced);
        AuditRecord {
            stream_id: entry.stream_id,
            position: link.position,
            stream_kind: entry.stream_kind.as_str().into(),
            sequence: entry.sequence,
            event_id: entry.event_id,
            record_type: entry.record_type.into(),
            payload: entry.payload.clone(),
            kafka_topic: source.topic.clone(),
            kafka_partition: source.partition,
            kafka_offset: source.offset,
            occurred_at: entry.occurred_at,
            recorded_at,
            prev_hash: link.prev_hash.to_vec(),
            hash: link.hash.to_vec(),
        }
    }

    /// Verifies `stream`'s records (all batches, in order) against `head`.
    fn verify(records: &[AuditRecord], stream: Uuid, head: Head) -> Result<(), Problem> {
        let mut verifier = ChainVerifier::new();
        let head = StreamHead {
            stream_id: stream,
            last_position: head.0,
            last_hash: head.1.to_vec(),
        };
        verifier
            .start_stream(stream, Some(head))
            .map_err(|b| b.problem)?;
        for record in records.iter().filter(|r| r.stream_id == stream) {
            verifier.push(record).map_err(|b| b.problem)?;
        }
        verifier.finish().map_err(|b| b.problem)
    }

    #[test]
    fn batches_extend_each_stream_from_its_head_into_a_chain_the_verifier_accepts() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let first = [
            sourced(a, Uuid::from_u128(10), 0),
            sourced(b, Uuid::from_u128(20), 1),
            sourced(a, Uuid::from_u128(11), 2),
        ];
        let one = link(&first, BTreeMap::new(), &HashSet::new(), at(2));
        assert_eq!(
            one.links.iter().map(|l| l.position).collect::<Vec<_>>(),
            [1, 1, 2]
        );
        assert_eq!(one.links[0].prev_hash, GENESIS);
        assert_eq!(one.links[2].prev_hash, one.links[0].hash);
        assert_eq!(one.heads[&a], (2, one.links[2].hash));

        // The next batch starts where the heads say, recorded a second later.
        let second = [sourced(a, Uuid::from_u128(12), 3)];
        let two = link(&second, one.heads.clone(), &HashSet::new(), at(3));
        assert_eq!(two.links[0].position, 3);
        assert_eq!(two.links[0].prev_hash, one.heads[&a].1);

        let mut records: Vec<AuditRecord> = one.links.iter().map(|l| stored(l, at(2))).collect();
        records.extend(two.links.iter().map(|l| stored(l, at(3))));
        assert_eq!(verify(&records, a, two.heads[&a]), Ok(()));
        assert_eq!(verify(&records, b, one.heads[&b]), Ok(()));

        // Any hashed column changed afterwards breaks the chain at that record.
        records[2].kafka_offset += 1;
        assert_eq!(
            verify(&records, a, two.heads[&a]),
            Err(Problem::HashMismatch)
        );
    }

    #[test]
    fn an_event_already_recorded_or_repeated_in_the_batch_is_left_out() {
        let stream = Uuid::from_u128(1);
        let (old, new) = (Uuid::from_u128(10), Uuid::from_u128(11));
        let batch = [
            sourced(stream, old, 0),
            sourced(stream, new, 1),
            sourced(stream, new, 2),
        ];
        let linked = link(&batch, BTreeMap::new(), &HashSet::from([old]), at(2));
        assert_eq!(linked.duplicates, 2);
        assert_eq!(linked.links.len(), 1);
        assert_eq!(linked.links[0].sourced.entry.event_id, new);
        assert_eq!(linked.links[0].position, 1);
    }

    #[test]
    fn a_stream_with_nothing_new_keeps_its_head() {
        let stream = Uuid::from_u128(1);
        let event = Uuid::from_u128(10);
        let heads = BTreeMap::from([(stream, (4, [7; 32]))]);
        let batch = [sourced(stream, event, 0)];
        let linked = link(&batch, heads, &HashSet::from([event]), at(2));
        assert!(linked.heads.is_empty());
        assert!(linked.links.is_empty());
    }
}
