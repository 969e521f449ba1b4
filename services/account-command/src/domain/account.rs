//! The account's state as the aggregate sees it, and its mapping to and from
//! the snapshot kept on `account-state`.

use chrono::{DateTime, Utc};
use eventbank_events::{
    AccountId, AccountSnapshot, AccountStatus, Currency, Holder, Money, WireRecord,
};

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
}

impl Account {
    /// The account a snapshot describes.
    ///
    /// The snapshot's `schema_version` is not looked at: `wire::decode` has
    /// already upcast it to the current shape. Its remembered commands and
    /// settled legs (written by earlier versions) are not part of the
    /// aggregate either — deduplication is the processor's job, by command id.
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
        }
    }

    /// A current-version snapshot of this account. It carries no remembered
    /// commands or settled legs any more: those live on `command-memory`, one
    /// record per command, so a snapshot's size does not grow with traffic.
    #[must_use]
    pub fn to_snapshot(&self) -> AccountSnapshot {
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
            recent_commands: Vec::new(),
            settled_legs: Vec::new(),
        }
    }

    /// Whether the account has been closed (it never reopens).
    #[must_use]
    pub const fn is_closed(&self) -> bool {
        matches!(self.status, AccountStatus::Closed)
    }
}
