//! One account's scripted stream of events, and what it ended as.

use std::sync::Arc;
use std::time::Duration;

use eventbank_events::testing::{
    completed, credited, debited, deposited, failed, opened, refunded, withdrawn,
};
use eventbank_events::{AccountEvent, AccountId, TransferId};
use eventbank_testkit::RecordWriter;
use tokio_util::sync::CancellationToken;

/// What one account's stream ended as.
#[derive(Debug, Clone)]
pub(super) struct StreamEnd {
    pub(super) account: AccountId,
    /// The version the view must reach (a stalled stream stops earlier).
    pub(super) version: u64,
    /// Ends with a sequence gap, so it must show in `stalled:acct`.
    pub(super) stalled: bool,
    pub(super) transfers: Vec<TransferId>,
}

/// One account's events, in order: opened, then deposits, withdrawals,
/// transfers out (completed, or failed and refunded, with the transfer's own
/// event on `transfer-events`) and in, until `events` were written or `stop`.
/// Account 0 ends closed; account 1 has a sequence gap (a stalled stream).
pub(super) async fn stream(
    writer: Arc<RecordWriter>,
    index: usize,
    others: Vec<AccountId>,
    account: AccountId,
    events: u64,
    pace: Pace,
    stop: CancellationToken,
) -> StreamEnd {
    let mut seq = 1;
    writer
        .account(account, seq, opened(&format!("Holder {index}")))
        .await;
    let mut balance = 0_i64;
    let mut transfers = Vec::new();
    let mut step = 0_u64;
    while seq < events && !stop.is_cancelled() {
        step += 1;
        seq += 1;
        let other = others[(index + step as usize) % others.len()];
        match step % 6 {
            1 | 4 => {
                let a = 100 + (step as i64 * 7) % 500;
                balance += a;
                writer.account(account, seq, deposited(a, balance)).await;
            }
            2 => {
                let a = 1 + (step as i64 * 3) % 50;
                balance -= a;
                writer.account(account, seq, withdrawn(a, balance)).await;
            }
            3 | 0 => {
                let t = TransferId::new();
                let a = 1 + (step as i64) % 40;
                balance -= a;
                writer
                    .account(account, seq, debited(t, other, a, balance))
                    .await;
                if step % 6 == 3 {
                    writer.transfer(t, 1, completed(account, other, a)).await;
                } else {
                    seq += 1;
                    balance += a;
                    writer.account(account, seq, refunded(t, a, balance)).await;
                    writer.transfer(t, 1, failed(account, other, a)).await;
                }
                transfers.push(t);
            }
            _ => {
                let a = 1 + (step as i64) % 30;
                balance += a;
                writer
                    .account(account, seq, credited(TransferId::new(), other, a, balance))
                    .await;
            }
        }
        if seq > pace.fast_first {
            tokio::time::sleep(pace.pause).await;
        }
    }
    let mut version = seq;
    if index == 0 {
        seq += 1;
        writer
            .account(account, seq, AccountEvent::AccountClosed {})
            .await;
        version = seq;
    } else if index == 1 {
        // A gap: seq + 1 is missing, so neither this nor the next is applied.
        writer
            .account(account, seq + 2, deposited(1, balance + 1))
            .await;
        writer
            .account(account, seq + 3, deposited(1, balance + 2))
            .await;
    }
    StreamEnd {
        account,
        version,
        stalled: index == 1,
        transfers,
    }
}

/// How fast each account's stream is written: its first `fast_first`
/// events at once, then one every `pause` (plus the produce round trip).
#[derive(Debug, Clone, Copy)]
pub(super) struct Pace {
    pub(super) fast_first: u64,
    pub(super) pause: Duration,
}

impl Pace {
    /// One event per account every 40 ms from the start: a stream that
    /// lasts seconds, for a stop or a kill to land in the middle of.
    pub(super) const STEADY: Self = Self {
        fast_first: 0,
        pause: Duration::from_millis(40),
    };
}
