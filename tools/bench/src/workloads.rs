//! The bank's workloads for the [load engine](crate::load).
//!
//! Accounts are spread over by a multiplicative hash of the request number,
//! so consecutive requests hit different accounts (and partitions) and every
//! account is hit about equally often.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::bank::{Answer, Bank};
use crate::load::{self, Call, Workload};
use crate::watch::TransferWatcher;

/// Account number `seq` of a run over `accounts` accounts.
fn spread(seq: u64, accounts: usize) -> usize {
    // A large odd multiplier visits every residue for a power-of-two count
    // and spreads well for any other.
    let n = u64::try_from(accounts.max(1)).unwrap_or(u64::MAX);
    usize::try_from(seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) % n).unwrap_or(0)
}

/// A latency histogram many clients record into.
#[derive(Debug)]
pub struct Shared(Mutex<Histogram<u64>>);

impl Default for Shared {
    fn default() -> Self {
        Self(Mutex::new(load::new_histogram()))
    }
}

impl Shared {
    pub fn record(&self, latency: Duration) {
        if let Ok(mut histogram) = self.0.lock() {
            load::record(&mut histogram, latency);
        }
    }

    pub fn snapshot(&self) -> Histogram<u64> {
        self.0
            .lock()
            .map(|h| h.clone())
            .unwrap_or_else(|_| load::new_histogram())
    }
}

/// Deposits and withdrawals (one in `withdraw_every`) of small amounts on
/// many accounts. A rejection (`insufficient_funds`) is a decided command
/// and counts as a success; it is also counted in `rejected`.
#[derive(Debug)]
pub struct Commands {
    pub bank: Bank,
    pub accounts: Arc<Vec<String>>,
    pub withdraw_every: u64,
    pub rejected: AtomicU64,
}

impl Commands {
    pub fn new(bank: Bank, accounts: Arc<Vec<String>>) -> Self {
        Self {
            bank,
            accounts,
            withdraw_every: 4,
            rejected: AtomicU64::new(0),
        }
    }
}

impl Workload for Commands {
    async fn call(&self, call: Call) -> Result<(), String> {
        let account = &self.accounts[spread(call.seq, self.accounts.len())];
        let answer = if self.withdraw_every > 0 && call.seq.is_multiple_of(self.withdraw_every) {
            self.bank.withdraw(account, 50).await?
        } else {
            self.bank.deposit(account, 100).await?
        };
        if let Answer::Rejected(_) = answer {
            self.rejected.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// A deposit, then a read of the projector's view that waits for the
/// deposit's version (`min_version`, read-your-writes). The engine's latency
/// is command sent → visible; `acked` and `ack_to_visible` split it.
#[derive(Debug)]
pub struct VisibleDeposits {
    pub bank: Bank,
    pub accounts: Arc<Vec<String>>,
    /// Command sent → its answer.
    pub acked: Shared,
    /// Answer → the view shows the version.
    pub ack_to_visible: Shared,
}

impl VisibleDeposits {
    pub fn new(bank: Bank, accounts: Arc<Vec<String>>) -> Self {
        Self {
            bank,
            accounts,
            acked: Shared::default(),
            ack_to_visible: Shared::default(),
        }
    }
}

impl Workload for VisibleDeposits {
    async fn call(&self, call: Call) -> Result<(), String> {
        let account = &self.accounts[spread(call.seq, self.accounts.len())];
        let sent = Instant::now();
        let version = match self.bank.deposit(account, 100).await? {
            Answer::Accepted(applied) => applied.version,
            Answer::Rejected(code) => return Err(code),
        };
        let acked = Instant::now();
        self.acked.record(acked - sent);
        let seen = self.bank.visible(account, version).await?;
        if seen.behind || seen.version < version {
            return Err("not visible within the read wait".to_owned());
        }
        self.ack_to_visible.record(acked.elapsed());
        Ok(())
    }
}

/// A transfer between two accounts, followed to its end: `POST /transfers`,
/// then its `TransferCompleted`/`TransferFailed` on `transfer-events` (seen
/// by a [`TransferWatcher`]), then the projector's `GET /transfers/{id}`
/// showing that status. The engine's latency is POST sent → status terminal
/// in the view.
#[derive(Debug)]
pub struct Transfers {
    pub bank: Bank,
    pub accounts: Arc<Vec<String>>,
    pub watcher: TransferWatcher,
    /// How long a transfer may take to end before it counts as failed.
    pub deadline: Duration,
    /// How often the view is asked once the terminal event is committed.
    pub poll: Duration,
    /// POST sent → the debit's answer.
    pub debited: Shared,
    /// POST sent → the terminal event is committed.
    pub ended: Shared,
    pub completed: AtomicU64,
    pub failed: AtomicU64,
}

impl Transfers {
    pub fn new(bank: Bank, accounts: Arc<Vec<String>>, watcher: TransferWatcher) -> Self {
        Self {
            bank,
            accounts,
            watcher,
            deadline: Duration::from_secs(60),
            poll: Duration::from_millis(5),
            debited: Shared::default(),
            ended: Shared::default(),
            completed: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        }
    }
}

impl Workload for Transfers {
    async fn call(&self, call: Call) -> Result<(), String> {
        let n = self.accounts.len();
        let from = spread(call.seq, n);
        let to = (from + n / 2).max(from + 1) % n;
        let sent = Instant::now();
        let transfer = match self
            .bank
            .transfer(&self.accounts[from], &self.accounts[to], 10)
            .await?
        {
            Answer::Accepted(transfer) => transfer,
            Answer::Rejected(code) => return Err(format!("debit rejected: {code}")),
        };
        self.debited.record(sent.elapsed());
        let Some(ended) = self.watcher.wait(&transfer, self.deadline).await else {
            return Err("no terminal event in time".to_owned());
        };
        self.ended.record(ended.saturating_duration_since(sent));
        let give_up = Instant::now() + self.deadline;
        loop {
            match self.bank.transfer_status(&transfer).await? {
                Some(status) if status == "completed" => {
                    self.completed.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                Some(status) if status == "failed" => {
                    self.failed.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                _ if Instant::now() >= give_up => {
                    return Err("terminal status not visible in time".to_owned());
                }
                _ => tokio::time::sleep(self.poll).await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_visits_every_account_evenly() {
        let mut hits = vec![0u32; 64];
        for seq in 0..64 * 100 {
            hits[spread(seq, 64)] += 1;
        }
        assert!(hits.iter().all(|&h| h == 100), "{hits:?}");
        let mut hits = vec![0u32; 1000];
        for seq in 0..100_000 {
            hits[spread(seq, 1000)] += 1;
        }
        assert!(hits.iter().all(|&h| h > 50), "every account is used");
    }
}
