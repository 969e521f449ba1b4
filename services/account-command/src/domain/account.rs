//! The account's state as the aggregate sees it, and its mapping to and from
//! the snapshot kept on `account-state`.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use eventbank_events::{
    AccountId, AccountSnapshot, AccountStatus, Currency, Holder, Money, RememberedCommand,
    SettledLeg, SettledStep, TransferId, WireRecord,
};

/// How long an account remembers a refund it applied. A refund has no
/// deadline, so the saga retries it until it sees it applied; this only has
/// to outlast the saga's longest plausible lag.
pub const REFUND_MEMORY: TimeDelta = TimeDelta::days(7);

/// An account as of its latest event (`version` is that event's sequence).
///
/// Only [`apply`](fn@super::apply) moves it forward; [`decide`](fn@super::decide)
/// merely reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub holder: Holder,
    pub currency: Currency,
    pub balance: Money,
    pub status: AccountStatus,
    pub version: u64,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Transfer legs applied here, each until it can no longer be repeated:
    /// a credit until its deadline (then the deadline refuses a repeat), a
    /// refund for [`REFUND_MEMORY`]. A repeat is refused as a duplicate even
    /// when the processor's command window has forgotten the original.
    pub settled: BTreeMap<(TransferId, SettledStep), DateTime<Utc>>,
}

impl Account {
    /// The account a snapshot describes.
    ///
    /// The snapshot's `schema_version` is not looked at: `wire::decode` has
    /// already upcast it to the current shape. Its remembered commands are not
    /// part of the aggregate either — deduplication is the processor's job.
    #[must_use]
    pub fn from_snapshot(snapshot: &AccountSnapshot) -> Self {
        Self {
            id: snapshot.account_id,
            holder: snapshot.holder.clone(),
            currency: snapshot.currency,
            balance: snapshot.balance,
            status: snapshot.status,
            version: snapshot.version,
            opened_at: snapshot.opened_at,
            updated_at: snapshot.updated_at,
            settled: snapshot
                .settled_legs
                .iter()
                .map(|leg| ((leg.transfer_id, leg.step), leg.until))
                .collect(),
        }
    }

    /// Whether this leg of `transfer_id` was applied here and is still
    /// remembered.
    #[must_use]
    pub fn has_settled(&self, transfer_id: TransferId, step: SettledStep) -> bool {
        self.settled.contains_key(&(transfer_id, step))
    }

    /// A current-version snapshot of this account, carrying the processor's
    /// window of remembered commands.
    #[must_use]
    pub fn to_snapshot(&self, recent_commands: Vec<RememberedCommand>) -> AccountSnapshot {
        AccountSnapshot {
            schema_version: AccountSnapshot::CURRENT_VERSION,
            account_id: self.id,
            version: self.version,
            holder: self.holder.clone(),
            currency: self.currency,
            balance: self.balance,
            status: self.status,
            opened_at: self.opened_at,
            updated_at: self.updated_at,
            recent_commands,
            settled_legs: self
                .settled
                .iter()
                .map(|(&(transfer_id, step), &until)| SettledLeg {
                    transfer_id,
                    step,
                    until,
                })
                .collect(),
        }
    }

    /// Whether the account has been closed (it never reopens).
    #[must_use]
    pub const fn is_closed(&self) -> bool {
        matches!(self.status, AccountStatus::Closed)
    }
}
