//! Whole-trail scans for verify and reconcile.
//!
//! Each runs in one read-only REPEATABLE READ transaction on a connection of
//! its own, so it sees one consistent snapshot while the consumer keeps
//! appending, and fetches rows through a portal in bounded chunks, so memory
//! does not grow with the trail.

use serde::Serialize;
use serde_json::Value;
use tokio_postgres::{Client, IsolationLevel, Transaction};
use uuid::Uuid;

use crate::chain::{BrokenLink, ChainVerifier, StreamHead};
use crate::entry::COMMAND_REJECTED;
use crate::reconcile::{LedgerEvent, Mismatch, Reconciler};
use crate::record::{AuditRecord, COLUMNS};
use crate::store::offsets::{RetentionGap, retention_gaps};

/// Rows fetched per round trip.
const CHUNK: i32 = 1_000;

/// The answer of `GET /audit/verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VerifyReport {
    pub ok: bool,
    pub streams_checked: u64,
    pub records_checked: u64,
    /// The first broken link, in stream id then position order.
    pub broken: Option<BrokenLink>,
    /// False if retention deleted source records before they were read
    /// (`ok` speaks of the chains; this of what reached them).
    pub complete: bool,
    pub retention_gaps: Vec<RetentionGap>,
}

/// The answer of `GET /audit/reconcile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ReconcileReport {
    pub ok: bool,
    pub accounts_checked: u64,
    pub events_checked: u64,
    pub mismatch_count: u64,
    /// The first `limit` mismatches.
    pub mismatches: Vec<Mismatch>,
}

/// The read-only REPEATABLE READ transaction a scan runs in.
async fn snapshot(client: &mut Client) -> Result<Transaction<'_>, tokio_postgres::Error> {
    client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
}

/// Recomputes every chain (or only `stream`'s) and stops at the first break.
pub async fn verify(
    client: &mut Client,
    stream: Option<Uuid>,
) -> Result<VerifyReport, tokio_postgres::Error> {
    let tx = snapshot(client).await?;
    // Heads and records side by side, so a stream missing either shows up.
    let filter = if stream.is_some() {
        "WHERE stream_id = $1"
    } else {
        "WHERE $1::uuid IS NULL"
    };
    let sql = format!(
        "SELECT h.stream_id, h.last_position, h.last_hash, r.*
         FROM (SELECT stream_id, last_position, last_hash FROM stream_heads {filter}) h
         FULL JOIN (SELECT {COLUMNS} FROM audit_records {filter}) r
           ON r.stream_id = h.stream_id
         ORDER BY coalesce(h.stream_id, r.stream_id), r.position"
    );
    let portal = tx.bind(&sql, &[&stream]).await?;
    let mut verifier = ChainVerifier::new();
    let mut broken = None;
    'scan: loop {
        let rows = tx.query_portal(&portal, CHUNK).await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let head = match row.try_get::<_, Option<Uuid>>(0)? {
                Some(stream_id) => Some(StreamHead {
                    stream_id,
                    last_position: row.try_get(1)?,
                    last_hash: row.try_get(2)?,
                }),
                None => None,
            };
            let record_stream: Option<Uuid> = row.try_get(3)?;
            let Some(stream_id) = head.as_ref().map(|h| h.stream_id).or(record_stream) else {
                continue;
            };
            let mut step = Ok(());
            if verifier.current_stream() != Some(stream_id) {
                step = verifier.start_stream(stream_id, head);
            }
            if step.is_ok() && record_stream.is_some() {
                step = verifier.push(&AuditRecord::from_row(row, 3)?);
            }
            if let Err(link) = step {
                broken = Some(link);
                break 'scan;
            }
        }
    }
    if broken.is_none()
        && let Err(link) = verifier.finish()
    {
        broken = Some(link);
    }
    let retention_gaps = retention_gaps(&tx).await?;
    tx.commit().await?;
    Ok(VerifyReport {
        ok: broken.is_none(),
        streams_checked: verifier.streams_checked,
        records_checked: verifier.records_checked,
        broken,
        complete: retention_gaps.is_empty(),
        retention_gaps,
    })
}

/// Recomputes every account's balances from its recorded events; lists up to
/// `limit` mismatches and counts all of them.
pub async fn reconcile(
    client: &mut Client,
    limit: usize,
) -> Result<ReconcileReport, tokio_postgres::Error> {
    let tx = snapshot(client).await?;
    let portal = tx
        .bind(
            "SELECT stream_id, position, sequence, record_type, payload->'event'
             FROM audit_records
             WHERE stream_kind = 'account' AND record_type <> $1
             ORDER BY stream_id, position",
            &[&COMMAND_REJECTED],
        )
        .await?;
    let mut reconciler = Reconciler::new();
    let mut mismatches = Vec::new();
    let mut mismatch_count = 0_u64;
    loop {
        let rows = tx.query_portal(&portal, CHUNK).await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let event: Option<Value> = row.try_get(4)?;
            let event = event.unwrap_or(Value::Null);
            let sequence: Option<i64> = row.try_get(2)?;
            let record_type: String = row.try_get(3)?;
            for mismatch in reconciler.push(LedgerEvent {
                stream_id: row.try_get(0)?,
                position: row.try_get(1)?,
                sequence: sequence.unwrap_or(0),
                record_type: &record_type,
                event: &event,
            }) {
                mismatch_count += 1;
                if mismatches.len() < limit {
                    mismatches.push(mismatch);
                }
            }
        }
    }
    tx.commit().await?;
    Ok(ReconcileReport {
        ok: mismatch_count == 0,
        accounts_checked: reconciler.accounts_checked,
        events_checked: reconciler.events_checked,
        mismatch_count,
        mismatches,
    })
}
