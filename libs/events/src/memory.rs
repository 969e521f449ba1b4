//! What the account-command processor remembers about each command it
//! decided, on the compacted `command-memory` topic (keyed by command id,
//! co-partitioned with `account-commands`).
//!
//! This is the authority for idempotency: a command id seen again within its
//! record's lifetime gets the first outcome if it asks for the same thing
//! (same [`Fingerprint`]), and `idempotency_key_reused` if it asks for
//! something else — never a second effect. Each outcome is its own record, so
//! an account's snapshot stays the same size however many commands it gets,
//! and a record is tombstoned once it expires: memory is bounded by a
//! duration, not by a count of other commands.

use std::fmt::{self, Write as _};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::command::{AccountCommand, CommandEnvelope};
use crate::ids::{AccountId, CommandId};
use crate::result::CommandOutcome;
use crate::wire_macros::versioned_record;

/// SHA-256 of what a command asks for — its account and its command body
/// (not its id, time or tracing metadata) — as lowercase hex. Two requests
/// with one idempotency key are the same request exactly when their
/// fingerprints are equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The fingerprint of `envelope`'s request.
    pub fn of(envelope: &CommandEnvelope) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(envelope.account_id.as_uuid().as_bytes());
        // A credit's deadline is when the saga gives up, not what it asks
        // for: a retry issued under another deadline setting is the same leg.
        let mut command = envelope.command.clone();
        if let AccountCommand::CreditForTransfer { deadline, .. } = &mut command {
            *deadline = None;
        }
        // serde_json writes struct fields in declaration order, so the same
        // command always hashes the same bytes.
        hasher.update(serde_json::to_vec(&command).unwrap_or_default());
        let mut hex = String::with_capacity(64);
        for byte in hasher.finalize() {
            // Writing to a String cannot fail.
            let _ = write!(hex, "{byte:02x}");
        }
        Self(hex)
    }

    /// A fingerprint from its hex text (as stored).
    pub fn from_hex(hex: impl Into<String>) -> Self {
        Self(hex.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One decided command, remembered until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RememberedOutcome {
    pub schema_version: u32,
    pub command_id: CommandId,
    pub account_id: AccountId,
    /// What the command asked for. `None` only for outcomes carried over from
    /// snapshots written before fingerprints existed: they match any request.
    pub fingerprint: Option<Fingerprint>,
    pub outcome: CommandOutcome,
    pub decided_at: DateTime<Utc>,
    /// After this the record is tombstoned and the id may be decided afresh
    /// (by then a transfer credit is past its deadline and refused anyway).
    pub expires_at: DateTime<Utc>,
}

impl RememberedOutcome {
    /// Whether a request with `fingerprint` is a retry of the remembered one.
    pub fn matches(&self, fingerprint: &Fingerprint) -> bool {
        self.fingerprint
            .as_ref()
            .is_none_or(|remembered| remembered == fingerprint)
    }
}

versioned_record!(
    RememberedOutcome,
    kind: "command-memory",
    version: 1,
    key: command_id,
    tag: ["outcome", "status"] in CommandOutcome::STATUSES,
);

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::{Amount, CorrelationId};

    fn deposit(account: AccountId, amount: i64) -> CommandEnvelope {
        CommandEnvelope::new(
            CommandId::new(),
            account,
            CorrelationId::new(),
            Utc::now(),
            AccountCommand::Deposit {
                amount: Amount::new(amount).unwrap(),
            },
        )
    }

    #[test]
    fn the_same_request_has_the_same_fingerprint_whatever_its_metadata() {
        let account = AccountId::new();
        let first = deposit(account, 500);
        let retry = deposit(account, 500);
        assert_ne!(first.command_id, retry.command_id);
        assert_eq!(Fingerprint::of(&first), Fingerprint::of(&retry));
        assert_eq!(Fingerprint::of(&first).as_str().len(), 64);
    }

    #[test]
    fn another_amount_or_account_is_another_request() {
        let account = AccountId::new();
        let first = Fingerprint::of(&deposit(account, 500));
        assert_ne!(first, Fingerprint::of(&deposit(account, 501)));
        assert_ne!(first, Fingerprint::of(&deposit(AccountId::new(), 500)));
    }

    #[test]
    fn an_outcome_without_fingerprint_matches_any_request() {
        let envelope = deposit(AccountId::new(), 1);
        let mut remembered = RememberedOutcome {
            schema_version: 1,
            command_id: envelope.command_id,
            account_id: envelope.account_id,
            fingerprint: None,
            outcome: CommandOutcome::rejected(crate::RejectionCode::AccountNotFound, "no"),
            decided_at: Utc::now(),
            expires_at: Utc::now(),
        };
        let other = Fingerprint::of(&deposit(AccountId::new(), 2));
        assert!(remembered.matches(&other));
        remembered.fingerprint = Some(Fingerprint::of(&envelope));
        assert!(!remembered.matches(&other));
        assert!(remembered.matches(&Fingerprint::of(&envelope)));
    }
}
