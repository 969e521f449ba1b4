//! The clients' side of the story: what they were told.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use eventbank_events::{CommandId, TransferId};
use serde_json::Value;

/// What the clients were told, to check the bank against.
#[derive(Default)]
pub(super) struct Ledger {
    pub(super) deposited: AtomicU64,
    pub(super) withdrawn: AtomicU64,
    /// Every acknowledged command (deposit, withdrawal, transfer debit).
    pub(super) accepted: std::sync::Mutex<Vec<CommandId>>,
    pub(super) rejected: std::sync::Mutex<Vec<CommandId>>,
    pub(super) transfers: std::sync::Mutex<Vec<TransferId>>,
}

impl Ledger {
    pub(super) fn to_json(&self, accounts: &[String], faults: &BTreeMap<&str, usize>) -> Value {
        let ids = |list: &std::sync::Mutex<Vec<CommandId>>| -> Vec<String> {
            list.lock()
                .unwrap()
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        serde_json::json!({
            "accounts": accounts,
            "deposited": self.deposited.load(Ordering::SeqCst),
            "withdrawn": self.withdrawn.load(Ordering::SeqCst),
            "accepted": ids(&self.accepted),
            "rejected": ids(&self.rejected),
            "transfers": self.transfers.lock().unwrap().iter().map(ToString::to_string).collect::<Vec<_>>(),
            "faults": faults,
        })
    }
}
