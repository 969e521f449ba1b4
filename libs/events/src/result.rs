//! Command results, on `command-results` (keyed by command id): the answer the
//! account-command API waits for.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AccountId, CommandId, CorrelationId, EventId, TransferId};
use crate::memory::Fingerprint;
use crate::money::Money;
use crate::wire::WireRecord;
use crate::wire_macros::{versioned_record, wire_tags};

/// The outcome of one command, written in the same transaction as its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CommandResult {
    pub schema_version: u32,
    pub command_id: CommandId,
    pub account_id: AccountId,
    pub correlation_id: CorrelationId,
    pub processed_at: DateTime<Utc>,
    pub outcome: CommandOutcome,
    /// The transfer the command was a leg of. Lets the saga route a rejected
    /// credit or refund (which appends no event) to the transfer's owner.
    /// Absent for other commands and in records written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_id: Option<TransferId>,
    /// The fingerprint of the request this command id is bound to (the first
    /// one decided), so an API holding this result can tell a retry from a
    /// reused key without asking the processor. Absent in records written
    /// before fingerprints existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Fingerprint>,
}

impl CommandResult {
    /// A current-version result.
    pub fn new(
        command_id: CommandId,
        account_id: AccountId,
        correlation_id: CorrelationId,
        processed_at: DateTime<Utc>,
        outcome: CommandOutcome,
    ) -> Self {
        Self {
            schema_version: Self::CURRENT_VERSION,
            command_id,
            account_id,
            correlation_id,
            processed_at,
            outcome,
            transfer_id: None,
            fingerprint: None,
        }
    }

    /// The same result, bound to the request with `fingerprint`.
    #[must_use]
    pub fn with_fingerprint(mut self, fingerprint: Option<Fingerprint>) -> Self {
        self.fingerprint = fingerprint;
        self
    }

    /// The same result, marked as a leg of `transfer_id`.
    #[must_use]
    pub fn for_transfer(mut self, transfer_id: Option<TransferId>) -> Self {
        self.transfer_id = transfer_id;
        self
    }
}

versioned_record!(
    CommandResult,
    kind: "command-result",
    version: 1,
    key: command_id,
    tag: ["outcome", "status"] in CommandOutcome::STATUSES,
);

/// Whether a command took effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "status", rename_all = "snake_case", deny_unknown_fields)]
pub enum CommandOutcome {
    /// The command was applied.
    Accepted {
        /// The account's version (its last event's sequence) afterwards.
        version: u64,
        /// The balance afterwards.
        balance: Money,
        /// The events appended, in order.
        events: Vec<EventId>,
    },
    /// The command was refused; nothing was appended.
    Rejected { rejection: Rejection },
}

wire_tags!(
    CommandOutcome,
    /// Every `status` tag, in declaration order.
    STATUSES,
    /// This outcome's `status` tag on the wire.
    status,
    { Accepted => "accepted", Rejected => "rejected" }
);

impl CommandOutcome {
    /// A rejection with `code` and a human-readable `message`.
    pub fn rejected(code: RejectionCode, message: impl Into<String>) -> Self {
        Self::Rejected {
            rejection: Rejection::new(code, message),
        }
    }
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    /// Machine-readable; what clients branch on.
    pub code: RejectionCode,
    /// For humans; may change wording at any time.
    pub message: String,
}

impl Rejection {
    pub fn new(code: RejectionCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// The reasons a command can be refused. These strings are the HTTP API's
/// error codes too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum RejectionCode {
    AccountNotFound,
    AccountAlreadyExists,
    AccountClosed,
    InsufficientFunds,
    BalanceNotZero,
    CurrencyMismatch,
    /// Above a business limit on a single amount.
    AmountTooLarge,
    InvalidAmount,
    /// The resulting balance would not fit in 64-bit minor units.
    BalanceOverflow,
    /// A transfer from an account to itself.
    SameAccount,
    TransferNotFound,
    DuplicateTransfer,
    /// A transfer credit decided after its deadline; the saga refunds it.
    TransferExpired,
    /// A command id (an `Idempotency-Key`) already bound to a different
    /// request; nothing was appended.
    IdempotencyKeyReused,
}

impl RejectionCode {
    /// Every code, in declaration order.
    pub const ALL: [RejectionCode; 14] = [
        Self::AccountNotFound,
        Self::AccountAlreadyExists,
        Self::AccountClosed,
        Self::InsufficientFunds,
        Self::BalanceNotZero,
        Self::CurrencyMismatch,
        Self::AmountTooLarge,
        Self::InvalidAmount,
        Self::BalanceOverflow,
        Self::SameAccount,
        Self::TransferNotFound,
        Self::DuplicateTransfer,
        Self::TransferExpired,
        Self::IdempotencyKeyReused,
    ];

    /// The code's wire name, e.g. `"insufficient_funds"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AccountNotFound => "account_not_found",
            Self::AccountAlreadyExists => "account_already_exists",
            Self::AccountClosed => "account_closed",
            Self::InsufficientFunds => "insufficient_funds",
            Self::BalanceNotZero => "balance_not_zero",
            Self::CurrencyMismatch => "currency_mismatch",
            Self::AmountTooLarge => "amount_too_large",
            Self::InvalidAmount => "invalid_amount",
            Self::BalanceOverflow => "balance_overflow",
            Self::SameAccount => "same_account",
            Self::TransferNotFound => "transfer_not_found",
            Self::DuplicateTransfer => "duplicate_transfer",
            Self::TransferExpired => "transfer_expired",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
        }
    }

    /// The HTTP status the API should answer with: 404 when something does not
    /// exist, 409 when it already does, 400 when the request is wrong whatever
    /// the state, 422 when the state forbids it.
    pub const fn http_status_hint(self) -> u16 {
        match self {
            Self::AccountNotFound | Self::TransferNotFound => 404,
            Self::AccountAlreadyExists | Self::DuplicateTransfer => 409,
            Self::InvalidAmount | Self::SameAccount => 400,
            Self::AccountClosed
            | Self::InsufficientFunds
            | Self::BalanceNotZero
            | Self::CurrencyMismatch
            | Self::AmountTooLarge
            | Self::BalanceOverflow
            | Self::TransferExpired
            | Self::IdempotencyKeyReused => 422,
        }
    }
}

impl fmt::Display for RejectionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_str_matches_the_wire_name() {
        for code in RejectionCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }

    #[test]
    fn http_hints_follow_the_design() {
        assert_eq!(RejectionCode::AccountNotFound.http_status_hint(), 404);
        assert_eq!(RejectionCode::AccountAlreadyExists.http_status_hint(), 409);
        assert_eq!(RejectionCode::InsufficientFunds.http_status_hint(), 422);
        assert_eq!(RejectionCode::BalanceNotZero.http_status_hint(), 422);
        assert_eq!(RejectionCode::InvalidAmount.http_status_hint(), 400);
    }

    #[test]
    fn rejection_displays_code_and_message() {
        let rejection = Rejection::new(RejectionCode::InsufficientFunds, "balance 5 < 7");
        assert_eq!(rejection.to_string(), "insufficient_funds: balance 5 < 7");
    }
}
