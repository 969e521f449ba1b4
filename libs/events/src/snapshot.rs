//! State snapshots on the compacted state topics, from which the processor and
//! the saga restore themselves on partition assignment.
//!
//! A snapshot is derived data (the events are the truth), but it is read back
//! across deployments, so it is a versioned wire format like any other record.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::holder::Holder;
use crate::ids::{AccountId, CommandId, CorrelationId, TransferId};
use crate::money::{Amount, Currency, Money};
use crate::result::CommandOutcome;
use crate::transfer::{SagaStep, TransferFailureReason};
use crate::wire_macros::versioned_record;

/// An account's state after its latest command, on `account-state` (keyed by
/// account id). Written in the same transaction as that command's events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AccountSnapshot {
    pub schema_version: u32,
    pub account_id: AccountId,
    /// The sequence of the account's last event.
    pub version: u64,
    pub holder: Holder,
    pub currency: Currency,
    pub balance: Money,
    pub status: AccountStatus,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Recently processed commands and their outcomes, oldest first, so a
    /// repeated command id gets its original outcome. Rejected commands are
    /// remembered too. How many to keep is the processor's decision.
    pub recent_commands: Vec<RememberedCommand>,
    /// Transfer legs this account has settled, each until it can no longer
    /// be repeated, so a repeat is refused whatever the command window.
    /// Absent in snapshots written before it existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub settled_legs: Vec<SettledLeg>,
}

/// A transfer leg an account applied, remembered until `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SettledLeg {
    pub transfer_id: TransferId,
    pub step: SettledStep,
    pub until: DateTime<Utc>,
}

/// Which leg of a transfer an account settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum SettledStep {
    Credit,
    Refund,
}

impl AccountSnapshot {
    /// The remembered outcome of `command_id`, if it is still in the window.
    pub fn remembered(&self, command_id: CommandId) -> Option<&CommandOutcome> {
        self.recent_commands
            .iter()
            .find(|remembered| remembered.command_id == command_id)
            .map(|remembered| &remembered.result)
    }
}

versioned_record!(
    AccountSnapshot,
    kind: "account-snapshot",
    version: 1,
    key: account_id,
);

/// Whether an account accepts commands other than being looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Open,
    Closed,
}

/// A processed command, kept for idempotency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RememberedCommand {
    pub command_id: CommandId,
    pub result: CommandOutcome,
}

/// A transfer saga's progress, on `transfer-state` (keyed by transfer id).
/// Written in the same transaction as the commands the saga emits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TransferSagaSnapshot {
    pub schema_version: u32,
    pub transfer_id: TransferId,
    pub from: AccountId,
    pub to: AccountId,
    pub amount: Amount,
    pub currency: Currency,
    /// Carried onto every command and event of this transfer, including ones
    /// the saga issues on its own (e.g. a refund after a timeout).
    pub correlation_id: CorrelationId,
    pub step: SagaStep,
    /// Set once the saga is refunding, and kept when it has failed.
    pub failure_reason: Option<TransferFailureReason>,
    /// How many times the current step's command was issued.
    pub attempts: u32,
    pub started_at: DateTime<Utc>,
    pub last_progress_at: DateTime<Utc>,
}

versioned_record!(
    TransferSagaSnapshot,
    kind: "transfer-saga-snapshot",
    version: 1,
    key: transfer_id,
);
