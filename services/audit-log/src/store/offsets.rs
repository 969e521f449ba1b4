//! The consumer's offsets, kept next to the records they cover.

use std::collections::BTreeMap;

use tokio_postgres::{Client, GenericClient, Transaction};

/// Offsets of a source partition deleted by retention before they were read
/// (`[from_offset, to_offset)`; see `consumer::gaps`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RetentionGap {
    pub topic: String,
    pub partition: i32,
    pub from_offset: i64,
    pub to_offset: i64,
}

/// Writes `gaps`; one found twice (by the consumer and the lag probe, or two
/// instances) is kept once. Returns the ones that were new.
pub async fn record_gaps<C: GenericClient>(
    client: &C,
    gaps: Vec<RetentionGap>,
) -> Result<Vec<RetentionGap>, tokio_postgres::Error> {
    let mut new = Vec::new();
    for gap in gaps {
        let inserted = client
            .execute(
                "INSERT INTO retention_gaps (topic, partition, from_offset, to_offset)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (topic, partition, from_offset) DO NOTHING",
                &[&gap.topic, &gap.partition, &gap.from_offset, &gap.to_offset],
            )
            .await?;
        if inserted == 1 {
            new.push(gap);
        }
    }
    Ok(new)
}

/// Every recorded gap, oldest offset first.
pub async fn retention_gaps<C: GenericClient>(
    client: &C,
) -> Result<Vec<RetentionGap>, tokio_postgres::Error> {
    Ok(client
        .query(
            "SELECT topic, partition, from_offset, to_offset FROM retention_gaps
             ORDER BY topic, partition, from_offset",
            &[],
        )
        .await?
        .iter()
        .map(|row| RetentionGap {
            topic: row.get(0),
            partition: row.get(1),
            from_offset: row.get(2),
            to_offset: row.get(3),
        })
        .collect())
}

/// Next offset to read, per (topic, partition).
pub type OffsetMap = BTreeMap<(String, i32), i64>;

/// Every stored offset (to seek to on assignment).
pub async fn load_offsets(client: &Client) -> Result<OffsetMap, tokio_postgres::Error> {
    read(
        client,
        "SELECT topic, partition, next_offset FROM consumer_offsets",
        &[],
    )
    .await
}

/// Locks the rows of `partitions` (creating missing ones at 0) for the rest
/// of the transaction and returns their offsets. Another instance writing the
/// same partitions (say, during a rebalance) waits here, then sees what this
/// transaction wrote. Rows are locked in key order, before any stream head,
/// so two appenders cannot deadlock.
pub async fn lock_offsets(
    tx: &Transaction<'_>,
    partitions: &[(String, i32)],
) -> Result<OffsetMap, tokio_postgres::Error> {
    let (topics, numbers): (Vec<&str>, Vec<i32>) =
        partitions.iter().map(|(t, p)| (t.as_str(), *p)).unzip();
    tx.execute(
        "INSERT INTO consumer_offsets (topic, partition, next_offset)
         SELECT t, p, 0 FROM unnest($1::text[], $2::int[]) AS u(t, p)
         ORDER BY t, p
         ON CONFLICT (topic, partition) DO NOTHING",
        &[&topics, &numbers],
    )
    .await?;
    read(
        tx,
        "SELECT o.topic, o.partition, o.next_offset FROM consumer_offsets o
         JOIN unnest($1::text[], $2::int[]) AS u(t, p) ON o.topic = u.t AND o.partition = u.p
         ORDER BY o.topic, o.partition
         FOR UPDATE OF o",
        &[&topics, &numbers],
    )
    .await
}

/// Moves the offsets forward (never back).
pub async fn save_offsets(
    tx: &Transaction<'_>,
    next: &OffsetMap,
) -> Result<(), tokio_postgres::Error> {
    let mut topics = Vec::with_capacity(next.len());
    let mut numbers = Vec::with_capacity(next.len());
    let mut offsets = Vec::with_capacity(next.len());
    for ((topic, partition), offset) in next {
        topics.push(topic.as_str());
        numbers.push(*partition);
        offsets.push(*offset);
    }
    tx.execute(
        "UPDATE consumer_offsets o
         SET next_offset = GREATEST(o.next_offset, u.n), updated_at = now()
         FROM unnest($1::text[], $2::int[], $3::bigint[]) AS u(t, p, n)
         WHERE o.topic = u.t AND o.partition = u.p",
        &[&topics, &numbers, &offsets],
    )
    .await?;
    Ok(())
}

async fn read<C: GenericClient>(
    client: &C,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<OffsetMap, tokio_postgres::Error> {
    Ok(client
        .query(sql, params)
        .await?
        .iter()
        .map(|row| ((row.get(0), row.get(1)), row.get(2)))
        .collect())
}
