//! The accounts one processor instance owns, with changes staged per
//! transaction: committed state is only replaced when Kafka confirms the
//! commit, so an aborted batch is re-decided against what really happened.

use std::collections::{HashMap, VecDeque};

use eventbank_events::{AccountId, AccountSnapshot, CommandId, CommandOutcome, RememberedCommand};

use crate::domain::Account;

/// An account plus the outcomes of its recent commands (for deduplication).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub account: Account,
    pub recent: VecDeque<RememberedCommand>,
}

impl Entry {
    pub fn from_snapshot(snapshot: &AccountSnapshot) -> Self {
        Self {
            account: Account::from_snapshot(snapshot),
            recent: snapshot.recent_commands.iter().cloned().collect(),
        }
    }

    pub fn snapshot(&self) -> AccountSnapshot {
        self.account
            .to_snapshot(self.recent.iter().cloned().collect())
    }

    pub fn remembered(&self, command_id: CommandId) -> Option<&CommandOutcome> {
        self.recent
            .iter()
            .find(|remembered| remembered.command_id == command_id)
            .map(|remembered| &remembered.result)
    }

    /// Keeps the newest `window` outcomes.
    pub fn remember(&mut self, command_id: CommandId, result: CommandOutcome, window: usize) {
        self.recent
            .push_back(RememberedCommand { command_id, result });
        while self.recent.len() > window {
            self.recent.pop_front();
        }
    }
}

#[derive(Debug, Default)]
pub struct Accounts {
    committed: HashMap<i32, HashMap<AccountId, Entry>>,
    staged: HashMap<AccountId, (i32, Entry)>,
}

impl Accounts {
    pub fn restore(&mut self, partition: i32, entries: HashMap<AccountId, Entry>) {
        self.committed.insert(partition, entries);
    }

    pub fn drop_partition(&mut self, partition: i32) {
        self.committed.remove(&partition);
        self.staged.retain(|_, (p, _)| *p != partition);
    }

    /// The account as this transaction sees it: staged if changed, else committed.
    pub fn get(&self, partition: i32, id: AccountId) -> Option<&Entry> {
        self.staged.get(&id).map(|(_, entry)| entry).or_else(|| {
            self.committed
                .get(&partition)
                .and_then(|accounts| accounts.get(&id))
        })
    }

    pub fn stage(&mut self, partition: i32, entry: Entry) {
        self.staged.insert(entry.account.id, (partition, entry));
    }

    pub fn commit(&mut self) {
        for (id, (partition, entry)) in self.staged.drain() {
            self.committed
                .entry(partition)
                .or_default()
                .insert(id, entry);
        }
    }

    pub fn abort(&mut self) {
        self.staged.clear();
    }
}
