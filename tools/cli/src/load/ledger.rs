//! The client-side ledger: what the bank acknowledged, command by command,
//! so the expected state of every account can be computed without trusting
//! the bank. A rejected command changes nothing; a command whose outcome is
//! unknown (the service did not answer) is kept with its idempotency key so
//! [`crate::load::verify`] can ask again and learn its first outcome.
//!
//! Usable by any test that drives the bank: record each answer with
//! [`Ledger::acknowledged`], [`Ledger::rejected`] or [`Ledger::unknown`].

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

/// A write the client sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Open {
        holder: String,
        currency: String,
    },
    Deposit {
        account: String,
        amount: i64,
    },
    Withdraw {
        account: String,
        amount: i64,
    },
    Transfer {
        from: String,
        to: String,
        amount: i64,
    },
}

/// A command sent whose outcome the client does not know yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsettled {
    pub key: String,
    pub op: Op,
}

/// An acknowledged transfer (its debit was accepted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub id: String,
    pub from: String,
    pub to: String,
    pub amount: i64,
}

/// What the client knows of one account, from acknowledged commands only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    pub deposited: i128,
    pub withdrawn: i128,
    /// Debited for transfers out (before any refund).
    pub debited: i128,
    /// Events its acknowledged commands appended: the opening, each deposit,
    /// withdrawal and transfer debit.
    pub events: u64,
}

#[derive(Debug, Default)]
struct Inner {
    accounts: BTreeMap<String, Account>,
    transfers: Vec<Transfer>,
    unknown: Vec<Unsettled>,
    rejected: u64,
}

/// Thread-safe: many load clients record into one ledger.
#[derive(Debug, Default)]
pub struct Ledger {
    inner: Mutex<Inner>,
}

/// How each transfer ended, by id: `true` completed, `false` failed (refunded).
pub type Outcomes = BTreeMap<String, bool>;

/// What one account should look like once every transfer has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub balance: i128,
    /// Its version, which is also the number of entries in its history.
    pub events: u64,
}

impl Ledger {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// `op` was accepted; `answer` is the bank's reply body (its
    /// `account_id` for an opening, `transfer_id` for a transfer).
    pub fn acknowledged(&self, op: &Op, answer: &serde_json::Value) {
        self.with(|inner| match op {
            Op::Open { .. } => {
                if let Some(id) = answer["account_id"].as_str() {
                    inner.accounts.entry(id.to_owned()).or_default().events = 1;
                }
            }
            Op::Deposit { account, amount } => {
                let entry = inner.accounts.entry(account.clone()).or_default();
                entry.deposited += i128::from(*amount);
                entry.events += 1;
            }
            Op::Withdraw { account, amount } => {
                let entry = inner.accounts.entry(account.clone()).or_default();
                entry.withdrawn += i128::from(*amount);
                entry.events += 1;
            }
            Op::Transfer { from, to, amount } => {
                let entry = inner.accounts.entry(from.clone()).or_default();
                entry.debited += i128::from(*amount);
                entry.events += 1;
                inner.transfers.push(Transfer {
                    id: answer["transfer_id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    from: from.clone(),
                    to: to.clone(),
                    amount: *amount,
                });
            }
        });
    }

    /// `op` was refused by the bank: nothing changed.
    pub fn rejected(&self, _op: &Op) {
        self.with(|inner| inner.rejected += 1);
    }

    /// `op` was sent with `key` and its outcome is unknown.
    pub fn unknown(&self, key: &str, op: Op) {
        self.with(|inner| {
            inner.unknown.push(Unsettled {
                key: key.to_owned(),
                op,
            })
        });
    }

    /// Takes the unsettled commands (to be asked about again).
    pub fn take_unknown(&self) -> Vec<Unsettled> {
        self.with(|inner| std::mem::take(&mut inner.unknown))
    }

    pub fn accounts(&self) -> BTreeMap<String, Account> {
        self.with(|inner| inner.accounts.clone())
    }

    pub fn transfers(&self) -> Vec<Transfer> {
        self.with(|inner| inner.transfers.clone())
    }

    pub fn rejections(&self) -> u64 {
        self.with(|inner| inner.rejected)
    }

    /// Money that entered minus money that left, over every account.
    pub fn net_inflow(&self) -> i128 {
        self.with(|inner| {
            inner
                .accounts
                .values()
                .map(|a| a.deposited - a.withdrawn)
                .sum()
        })
    }

    /// Every account's expected final state, given how each transfer ended:
    /// a completed transfer credits its target, a failed one refunds its
    /// source; either appends one event there.
    pub fn expected(&self, outcomes: &Outcomes) -> BTreeMap<String, Expected> {
        self.with(|inner| {
            let mut expected: BTreeMap<String, Expected> = inner
                .accounts
                .iter()
                .map(|(id, a)| {
                    let balance = a.deposited - a.withdrawn - a.debited;
                    (
                        id.clone(),
                        Expected {
                            balance,
                            events: a.events,
                        },
                    )
                })
                .collect();
            for transfer in &inner.transfers {
                let receiver = match outcomes.get(&transfer.id) {
                    Some(true) => &transfer.to,
                    Some(false) => &transfer.from,
                    None => continue,
                };
                if let Some(account) = expected.get_mut(receiver) {
                    account.balance += i128::from(transfer.amount);
                    account.events += 1;
                }
            }
            expected
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expected_state_follows_acknowledged_commands_and_transfer_outcomes() {
        let ledger = Ledger::new();
        let open = |holder: &str, id: &str| {
            let op = Op::Open {
                holder: holder.into(),
                currency: "EUR".into(),
            };
            ledger.acknowledged(&op, &json!({ "account_id": id }));
        };
        open("Ann", "a");
        open("Bob", "b");
        ledger.acknowledged(
            &Op::Deposit {
                account: "a".into(),
                amount: 100,
            },
            &json!({}),
        );
        ledger.acknowledged(
            &Op::Withdraw {
                account: "a".into(),
                amount: 10,
            },
            &json!({}),
        );
        ledger.rejected(&Op::Withdraw {
            account: "b".into(),
            amount: 10,
        });
        let t = |amount| Op::Transfer {
            from: "a".into(),
            to: "b".into(),
            amount,
        };
        ledger.acknowledged(&t(20), &json!({ "transfer_id": "t1" }));
        ledger.acknowledged(&t(30), &json!({ "transfer_id": "t2" }));
        let outcomes: Outcomes = [("t1".to_owned(), true), ("t2".to_owned(), false)].into();
        let expected = ledger.expected(&outcomes);
        // a: open, deposit, withdraw, 2 debits, 1 refund; b: open, 1 credit.
        assert_eq!(
            expected["a"],
            Expected {
                balance: 100 - 10 - 20,
                events: 6
            }
        );
        assert_eq!(
            expected["b"],
            Expected {
                balance: 20,
                events: 2
            }
        );
        assert_eq!(ledger.net_inflow(), 90);
        assert_eq!(expected.values().map(|e| e.balance).sum::<i128>(), 90);
        assert_eq!(ledger.rejections(), 1);
    }

    #[test]
    fn unknown_commands_are_kept_with_their_key_until_taken() {
        let ledger = Ledger::new();
        ledger.unknown(
            "k1",
            Op::Deposit {
                account: "a".into(),
                amount: 5,
            },
        );
        assert_eq!(ledger.take_unknown().len(), 1);
        assert!(ledger.take_unknown().is_empty());
    }
}
