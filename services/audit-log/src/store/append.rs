//! Appending a batch of entries to their chains, inside the caller's
//! transaction (which also moves the consumer's offsets). The chain's rules
//! are [`crate::linking`]'s; this is the SQL around them.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use tokio_postgres::Transaction;
use uuid::Uuid;

use crate::canonical::{GENESIS, hash_from_bytes};
use crate::entry::NewEntry;
use crate::linking::{Head, Link, link};

/// An entry and the Kafka record it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Sourced {
    pub entry: NewEntry,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// What an append did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppendOutcome {
    pub appended: u64,
    /// Entries whose event id was already recorded (e.g. a command's result
    /// repeated for a retried command id): not appended again.
    pub duplicates: u64,
}

/// Columns of one multi-row insert, built in Rust and sent as arrays.
#[derive(Default)]
struct Rows {
    stream_id: Vec<Uuid>,
    position: Vec<i64>,
    stream_kind: Vec<&'static str>,
    sequence: Vec<Option<i64>>,
    event_id: Vec<Uuid>,
    record_type: Vec<&'static str>,
    payload: Vec<serde_json::Value>,
    topic: Vec<String>,
    partition: Vec<i32>,
    offset: Vec<i64>,
    occurred_at: Vec<DateTime<Utc>>,
    recorded_at: Vec<DateTime<Utc>>,
    prev_hash: Vec<Vec<u8>>,
    hash: Vec<Vec<u8>>,
}

impl Rows {
    fn of(links: &[Link<'_>], recorded_at: DateTime<Utc>) -> Self {
        let mut rows = Self::default();
        for link in links {
            let (entry, source) = (&link.sourced.entry, link.sourced);
            rows.stream_id.push(entry.stream_id);
            rows.position.push(link.position);
            rows.stream_kind.push(entry.stream_kind.as_str());
            rows.sequence.push(entry.sequence);
            rows.event_id.push(entry.event_id);
            rows.record_type.push(entry.record_type);
            rows.payload.push(entry.payload.clone());
            rows.topic.push(source.topic.clone());
            rows.partition.push(source.partition);
            rows.offset.push(source.offset);
            rows.occurred_at.push(entry.occurred_at);
            rows.recorded_at.push(recorded_at);
            rows.prev_hash.push(link.prev_hash.to_vec());
            rows.hash.push(link.hash.to_vec());
        }
        rows
    }
}

/// Appends `entries` in order, each to the end of its stream's chain.
///
/// The streams' heads are locked first (in id order, so concurrent appenders
/// cannot deadlock), which makes each chain's extension atomic even when two
/// instances append to it. An entry whose event id is already recorded is
/// skipped, and the unique constraint on `event_id` backs that up: inserting
/// an event twice fails the transaction rather than forking a chain.
pub async fn append(
    tx: &Transaction<'_>,
    entries: &[Sourced],
    recorded_at: DateTime<Utc>,
) -> Result<AppendOutcome, tokio_postgres::Error> {
    if entries.is_empty() {
        return Ok(AppendOutcome::default());
    }
    let streams: BTreeMap<Uuid, &'static str> = entries
        .iter()
        .map(|s| (s.entry.stream_id, s.entry.stream_kind.as_str()))
        .collect();
    let (stream_ids, kinds): (Vec<Uuid>, Vec<&str>) = streams.into_iter().unzip();
    tx.execute(
        "INSERT INTO stream_heads (stream_id, stream_kind, last_position, last_hash)
         SELECT s, k, 0, $3 FROM unnest($1::uuid[], $2::text[]) AS u(s, k)
         ORDER BY s
         ON CONFLICT (stream_id) DO NOTHING",
        &[&stream_ids, &kinds, &GENESIS.as_slice()],
    )
    .await?;
    let heads: BTreeMap<Uuid, Head> = tx
        .query(
            "SELECT stream_id, last_position, last_hash FROM stream_heads
             WHERE stream_id = ANY($1) ORDER BY stream_id FOR UPDATE",
            &[&stream_ids],
        )
        .await?
        .iter()
        .map(|row| {
            let hash: Vec<u8> = row.get(2);
            (
                row.get(0),
                (row.get(1), hash_from_bytes(&hash).unwrap_or(GENESIS)),
            )
        })
        .collect();

    let event_ids: Vec<Uuid> = entries.iter().map(|s| s.entry.event_id).collect();
    let recorded: HashSet<Uuid> = tx
        .query(
            "SELECT event_id FROM audit_records WHERE event_id = ANY($1)",
            &[&event_ids],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();

    let linked = link(entries, heads, &recorded, recorded_at);
    let outcome = AppendOutcome {
        appended: linked.links.len() as u64,
        duplicates: linked.duplicates,
    };
    if linked.links.is_empty() {
        return Ok(outcome);
    }
    let rows = Rows::of(&linked.links, recorded_at);
    tx.execute(
        "INSERT INTO audit_records (stream_id, position, stream_kind, sequence, event_id,
             record_type, payload, kafka_topic, kafka_partition, kafka_offset, occurred_at,
             recorded_at, prev_hash, hash)
         SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::bigint[], $5::uuid[],
             $6::text[], $7::jsonb[], $8::text[], $9::int[], $10::bigint[], $11::timestamptz[],
             $12::timestamptz[], $13::bytea[], $14::bytea[])",
        &[
            &rows.stream_id,
            &rows.position,
            &rows.stream_kind,
            &rows.sequence,
            &rows.event_id,
            &rows.record_type,
            &rows.payload,
            &rows.topic,
            &rows.partition,
            &rows.offset,
            &rows.occurred_at,
            &rows.recorded_at,
            &rows.prev_hash,
            &rows.hash,
        ],
    )
    .await?;
    let (ids, ends): (Vec<Uuid>, Vec<Head>) = linked.heads.into_iter().unzip();
    let (positions, hashes): (Vec<i64>, Vec<Vec<u8>>) =
        ends.into_iter().map(|(p, h)| (p, h.to_vec())).unzip();
    tx.execute(
        "UPDATE stream_heads h SET last_position = u.p, last_hash = u.h
         FROM unnest($1::uuid[], $2::bigint[], $3::bytea[]) AS u(s, p, h)
         WHERE h.stream_id = u.s",
        &[&ids, &positions, &hashes],
    )
    .await?;
    Ok(outcome)
}
