//! The bank mix `eventbank load` drives through the [engine](super::engine):
//! deposits, withdrawals and transfers among a set of accounts, in
//! proportions given by a [`Mix`]. Every command carries a fresh
//! idempotency key and its answer goes into the [`Ledger`]. A rejection
//! (`insufficient_funds`) is a decided command: the call succeeds and the
//! rejection is counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::json;

use super::engine::{Call, Workload};
use super::ledger::{Ledger, Op};
use crate::client::{Client, new_key};
use crate::exit::CliError;

/// Relative weights of the operations (e.g. 50/25/20/5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mix {
    pub deposit: u32,
    pub withdraw: u32,
    pub transfer: u32,
    /// Transfers to an account that does not exist: debited, the credit
    /// refused, refunded — the saga's failure path under load.
    pub refunded: u32,
}

impl Default for Mix {
    fn default() -> Self {
        Self {
            deposit: 50,
            withdraw: 25,
            transfer: 20,
            refunded: 5,
        }
    }
}

impl std::str::FromStr for Mix {
    type Err = String;

    /// `deposit=50,withdraw=25,transfer=20,refunded=5`; an operation left
    /// out weighs 0.
    fn from_str(text: &str) -> Result<Self, String> {
        let mut mix = Mix {
            deposit: 0,
            withdraw: 0,
            transfer: 0,
            refunded: 0,
        };
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = part.split_once('=').ok_or_else(|| {
                format!("{part:?} is not NAME=WEIGHT (e.g. deposit=50,withdraw=25,transfer=20,refunded=5)")
            })?;
            let weight: u32 = weight.trim().parse().map_err(|_| {
                format!("the weight of {name} must be a whole number, got {weight:?}")
            })?;
            match name.trim() {
                "deposit" => mix.deposit = weight,
                "withdraw" => mix.withdraw = weight,
                "transfer" => mix.transfer = weight,
                "refunded" => mix.refunded = weight,
                other => {
                    return Err(format!(
                        "unknown operation {other:?}; known: deposit, withdraw, transfer, refunded"
                    ));
                }
            }
        }
        if mix.total() == 0 {
            return Err("the mix has no operation with a weight above 0".to_owned());
        }
        Ok(mix)
    }
}

/// One operation kind of the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Deposit,
    Withdraw,
    Transfer,
    Refunded,
}

impl Mix {
    fn total(&self) -> u64 {
        u64::from(self.deposit)
            + u64::from(self.withdraw)
            + u64::from(self.transfer)
            + u64::from(self.refunded)
    }

    /// Whether the mix moves money between two of the run's accounts.
    pub fn has_transfers(&self) -> bool {
        self.transfer > 0
    }

    /// The kind of request `seq`: the weights interleaved deterministically.
    pub fn pick(&self, seq: u64) -> Kind {
        let slot = spread(seq, self.total());
        if slot < u64::from(self.deposit) {
            Kind::Deposit
        } else if slot < u64::from(self.deposit) + u64::from(self.withdraw) {
            Kind::Withdraw
        } else if slot
            < u64::from(self.deposit) + u64::from(self.withdraw) + u64::from(self.transfer)
        {
            Kind::Transfer
        } else {
            Kind::Refunded
        }
    }
}

/// `seq` spread over `0..n` by a multiplicative hash, so consecutive
/// requests hit different accounts (and partitions) about equally often.
pub fn spread(seq: u64, n: u64) -> u64 {
    seq.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_right(17) % n.max(1)
}

/// The bank mix over `accounts`.
#[derive(Debug)]
pub struct BankMix {
    pub client: Client,
    pub accounts: Arc<Vec<String>>,
    pub mix: Mix,
    pub ledger: Arc<Ledger>,
    pub rejected: AtomicU64,
    pub transfers: AtomicU64,
}

impl BankMix {
    pub fn new(client: Client, accounts: Vec<String>, mix: Mix, ledger: Arc<Ledger>) -> Self {
        Self {
            client,
            accounts: Arc::new(accounts),
            mix,
            ledger,
            rejected: AtomicU64::new(0),
            transfers: AtomicU64::new(0),
        }
    }

    /// The operation of request `seq`: which accounts, how much (1-100).
    pub fn op(&self, seq: u64) -> Op {
        let n = u64::try_from(self.accounts.len()).unwrap_or(1);
        let at = |i: u64| self.accounts[usize::try_from(i).unwrap_or(0)].clone();
        let first = spread(seq, n);
        let amount = i64::try_from(1 + seq % 100).unwrap_or(1);
        match self.mix.pick(seq) {
            Kind::Deposit => Op::Deposit {
                account: at(first),
                amount,
            },
            Kind::Withdraw => Op::Withdraw {
                account: at(first),
                amount,
            },
            Kind::Transfer => Op::Transfer {
                from: at(first),
                to: at((first + 1 + spread(seq ^ 0x5555, n.saturating_sub(1).max(1))) % n),
                amount,
            },
            // A fresh id no account has: the saga's credit is refused.
            Kind::Refunded => Op::Transfer {
                from: at(first),
                to: uuid::Uuid::new_v4().to_string(),
                amount,
            },
        }
    }
}

/// Sends `op` with `key`; records the outcome in `ledger`. `Ok(true)` if
/// accepted, `Ok(false)` if the bank rejected it.
pub async fn send(client: &Client, ledger: &Ledger, op: &Op, key: &str) -> Result<bool, CliError> {
    let (path, body) = match op {
        Op::Open { holder, currency } => (
            "/accounts".to_owned(),
            json!({ "holder": holder, "currency": currency }),
        ),
        Op::Deposit { account, amount } => (
            format!("/accounts/{account}/deposits"),
            json!({ "amount": amount }),
        ),
        Op::Withdraw { account, amount } => (
            format!("/accounts/{account}/withdrawals"),
            json!({ "amount": amount }),
        ),
        Op::Transfer { from, to, amount } => (
            "/transfers".to_owned(),
            json!({ "from": from, "to": to, "amount": amount }),
        ),
    };
    match client.command(&path, Some(&body), key).await {
        Ok(reply) => {
            ledger.acknowledged(op, &reply.body);
            Ok(true)
        }
        Err(CliError::Rejected { .. }) => {
            ledger.rejected(op);
            Ok(false)
        }
        Err(err @ CliError::Unavailable { .. }) => {
            ledger.unknown(key, op.clone());
            Err(err)
        }
        Err(err) => Err(err),
    }
}

impl Workload for BankMix {
    async fn call(&self, call: Call) -> Result<(), String> {
        let op = self.op(call.seq);
        match send(&self.client, &self.ledger, &op, &new_key()).await {
            Ok(accepted) => {
                if !accepted {
                    self.rejected.fetch_add(1, Ordering::Relaxed);
                } else if matches!(op, Op::Transfer { .. }) {
                    // Counts refunded ones too: each is a transfer that ends.
                    self.transfers.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            }
            Err(err) => Err(match err.code() {
                Some(code) => format!("{} {code}", err.kind()),
                None => err.kind().to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_parses_weights_and_refuses_nonsense() {
        assert_eq!(
            "deposit=2,transfer=1,refunded=3".parse(),
            Ok(Mix {
                deposit: 2,
                withdraw: 0,
                transfer: 1,
                refunded: 3,
            })
        );
        assert!(
            "deposit"
                .parse::<Mix>()
                .unwrap_err()
                .contains("NAME=WEIGHT")
        );
        assert!(
            "steal=5"
                .parse::<Mix>()
                .unwrap_err()
                .contains("unknown operation")
        );
        assert!("deposit=0".parse::<Mix>().unwrap_err().contains("above 0"));
        assert!(
            "deposit=x"
                .parse::<Mix>()
                .unwrap_err()
                .contains("whole number")
        );
    }

    #[test]
    fn mix_picks_each_kind_in_proportion() {
        let mix = Mix {
            deposit: 2,
            withdraw: 1,
            transfer: 1,
            refunded: 1,
        };
        let mut counts = [0u32; 4];
        for seq in 0..5000 {
            counts[match mix.pick(seq) {
                Kind::Deposit => 0,
                Kind::Withdraw => 1,
                Kind::Transfer => 2,
                Kind::Refunded => 3,
            }] += 1;
        }
        assert_eq!(counts.iter().sum::<u32>(), 5000);
        // Within 10 % of 2000/1000/1000/1000.
        assert!((1800..=2200).contains(&counts[0]), "{counts:?}");
        for count in &counts[1..] {
            assert!((900..=1100).contains(count), "{counts:?}");
        }
    }
}
