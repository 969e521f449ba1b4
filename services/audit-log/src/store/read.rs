//! Reading one stream's records, a page at a time; the chains' extent.

use tokio_postgres::Client;
use uuid::Uuid;

use crate::record::{AuditRecord, COLUMNS};

/// Up to `limit` records of `stream_id` after position `after`, in order.
pub async fn stream_page(
    client: &Client,
    stream_id: Uuid,
    after: i64,
    limit: i64,
) -> Result<Vec<AuditRecord>, tokio_postgres::Error> {
    client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM audit_records
                 WHERE stream_id = $1 AND position > $2
                 ORDER BY position LIMIT $3"
            ),
            &[&stream_id, &after, &limit],
        )
        .await?
        .iter()
        .map(|row| AuditRecord::from_row(row, 0))
        .collect()
}

/// Whether anything was ever recorded for `stream_id`.
pub async fn stream_exists(
    client: &Client,
    stream_id: Uuid,
) -> Result<bool, tokio_postgres::Error> {
    Ok(client
        .query_opt(
            "SELECT 1 FROM audit_records WHERE stream_id = $1 LIMIT 1",
            &[&stream_id],
        )
        .await?
        .is_some())
}

/// How many chains (streams) the trail holds and how many records are linked
/// into them, from the heads (one row per stream, not a scan of the records).
pub async fn chain_extent(client: &Client) -> Result<(i64, i64), tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT count(*), coalesce(sum(last_position), 0)::bigint FROM stream_heads",
            &[],
        )
        .await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}
