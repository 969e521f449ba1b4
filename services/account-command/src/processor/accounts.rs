//! The accounts one processor instance owns, with changes staged per
//! transaction: committed state is only replaced when Kafka confirms the
//! commit, so an aborted batch is re-decided against what really happened.

use std::collections::HashMap;

use eventbank_events::AccountId;

use crate::domain::Account;

#[derive(Debug, Default)]
pub struct Accounts {
    committed: HashMap<i32, HashMap<AccountId, Account>>,
    staged: HashMap<AccountId, (i32, Account)>,
}

impl Accounts {
    pub fn restore(&mut self, partition: i32, accounts: HashMap<AccountId, Account>) {
        self.committed.insert(partition, accounts);
    }

    pub fn drop_partition(&mut self, partition: i32) {
        self.committed.remove(&partition);
        self.staged.retain(|_, (p, _)| *p != partition);
    }

    /// The account as this transaction sees it: staged if changed, else committed.
    pub fn get(&self, partition: i32, id: AccountId) -> Option<&Account> {
        self.staged
            .get(&id)
            .map(|(_, account)| account)
            .or_else(|| {
                self.committed
                    .get(&partition)
                    .and_then(|accounts| accounts.get(&id))
            })
    }

    pub fn stage(&mut self, partition: i32, account: Account) {
        self.staged.insert(account.id, (partition, account));
    }

    /// Every account the open transaction changed, with its partition — one
    /// entry per account however many commands changed it.
    pub fn changed(&self) -> impl Iterator<Item = (i32, &Account)> {
        self.staged
            .values()
            .map(|(partition, account)| (*partition, account))
    }

    pub fn commit(&mut self) {
        for (id, (partition, account)) in self.staged.drain() {
            self.committed
                .entry(partition)
                .or_default()
                .insert(id, account);
        }
    }

    pub fn abort(&mut self) {
        self.staged.clear();
    }
}
