//! Commands sent to accounts, on `account-commands` (keyed by account id).
//!
//! A command is a request that the account-command processor may accept (and
//! turn into events) or reject (with a [`Rejection`](crate::Rejection)); either
//! way it answers on `command-results`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::holder::Holder;
use crate::ids::{AccountId, CommandId, CorrelationId, EventId, TransferId};
use crate::money::{Amount, Currency};
use crate::transfer::TransferFailureReason;
use crate::wire::WireRecord;
use crate::wire_macros::{versioned_record, wire_tags};

/// What a command asks of one account (the envelope's `account_id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AccountCommand {
    /// Create the account. Rejected if it already exists.
    OpenAccount { holder: Holder, currency: Currency },
    /// Add money.
    Deposit { amount: Amount },
    /// Take money out; rejected if the balance would go below zero.
    Withdraw { amount: Amount },
    /// Close the account; rejected unless the balance is zero.
    // A struct variant (not a unit one) so `deny_unknown_fields` applies to it.
    CloseAccount {},
    /// Transfer leg 1, on the source account: take `amount` out for a transfer
    /// to `to`. Issued by the API.
    DebitForTransfer {
        transfer_id: TransferId,
        to: AccountId,
        amount: Amount,
    },
    /// Transfer leg 2, on the target account: add `amount` from `from`.
    /// Rejected if the target's currency is not `currency`. Issued by the saga.
    CreditForTransfer {
        transfer_id: TransferId,
        from: AccountId,
        amount: Amount,
        currency: Currency,
        /// The credit is refused (`transfer_expired`) if the target's processor
        /// decides it later than this. Lets the saga time a transfer out
        /// safely: the single writer of the target decides, in order, whether
        /// the credit happened, so a refund can never follow a late credit.
        /// Absent in records written before deadlines existed: no limit.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deadline: Option<DateTime<Utc>>,
    },
    /// Compensation, on the source account: give back a debit whose credit
    /// failed. Issued by the saga.
    RefundTransfer {
        transfer_id: TransferId,
        amount: Amount,
        reason: TransferFailureReason,
    },
}

wire_tags!(
    AccountCommand,
    /// Every `type` tag, in declaration order. Kept honest by a test that
    /// compares it with what serde derives from the enum.
    TYPES,
    /// This command's `type` tag on the wire.
    command_type,
    {
        OpenAccount => "open_account",
        Deposit => "deposit",
        Withdraw => "withdraw",
        CloseAccount => "close_account",
        DebitForTransfer => "debit_for_transfer",
        CreditForTransfer => "credit_for_transfer",
        RefundTransfer => "refund_transfer",
    }
);

impl AccountCommand {
    /// The transfer this command is a leg of, if it is one.
    pub const fn transfer_id(&self) -> Option<TransferId> {
        match self {
            Self::DebitForTransfer { transfer_id, .. }
            | Self::CreditForTransfer { transfer_id, .. }
            | Self::RefundTransfer { transfer_id, .. } => Some(*transfer_id),
            Self::OpenAccount { .. }
            | Self::Deposit { .. }
            | Self::Withdraw { .. }
            | Self::CloseAccount {} => None,
        }
    }
}

/// A command with its routing and tracing metadata, as written to
/// `account-commands`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CommandEnvelope {
    pub schema_version: u32,
    /// Idempotency key: a repeated id gets the first outcome and no new events.
    pub command_id: CommandId,
    /// The account the command is for; also the Kafka key.
    pub account_id: AccountId,
    pub correlation_id: CorrelationId,
    /// The event that made someone issue this command (the saga sets it), if any.
    pub causation_id: Option<EventId>,
    pub issued_at: DateTime<Utc>,
    pub command: AccountCommand,
}

impl CommandEnvelope {
    /// A current-version envelope with no causation.
    pub fn new(
        command_id: CommandId,
        account_id: AccountId,
        correlation_id: CorrelationId,
        issued_at: DateTime<Utc>,
        command: AccountCommand,
    ) -> Self {
        Self {
            schema_version: Self::CURRENT_VERSION,
            command_id,
            account_id,
            correlation_id,
            causation_id: None,
            issued_at,
            command,
        }
    }

    /// Records the event that caused this command.
    #[must_use]
    pub fn caused_by(mut self, event_id: EventId) -> Self {
        self.causation_id = Some(event_id);
        self
    }
}

versioned_record!(
    CommandEnvelope,
    kind: "account-command",
    version: 1,
    key: account_id,
    tag: ["command", "type"] in AccountCommand::TYPES,
);
