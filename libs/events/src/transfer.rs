//! Vocabulary of the transfer saga, shared by commands, events and saga state.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::result::RejectionCode;

/// Why a transfer failed (and its debit was refunded).
///
/// Closed on purpose: every reason is something the read model and the HTTP API
/// can name. A new reason is a schema change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum TransferFailureReason {
    /// The target account does not exist.
    AccountNotFound,
    /// The target account is closed.
    AccountClosed,
    /// The target account holds another currency than the source.
    CurrencyMismatch,
    /// Crediting would overflow the target's balance.
    BalanceOverflow,
    /// The credit was not decided before its deadline (the target's
    /// processor refused it as `transfer_expired`).
    Timeout,
}

impl TransferFailureReason {
    /// The reason's wire name, e.g. `"currency_mismatch"`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::AccountNotFound => "account_not_found",
            Self::AccountClosed => "account_closed",
            Self::CurrencyMismatch => "currency_mismatch",
            Self::BalanceOverflow => "balance_overflow",
            Self::Timeout => "timeout",
        }
    }

    /// The failure reason for a `CreditForTransfer` the target rejected with
    /// `code`, or `None` for a code a credit cannot produce (a bug upstream,
    /// which the saga must surface rather than map to a wrong reason).
    pub const fn for_rejected_credit(code: RejectionCode) -> Option<Self> {
        match code {
            RejectionCode::AccountNotFound => Some(Self::AccountNotFound),
            RejectionCode::AccountClosed => Some(Self::AccountClosed),
            RejectionCode::CurrencyMismatch => Some(Self::CurrencyMismatch),
            RejectionCode::BalanceOverflow => Some(Self::BalanceOverflow),
            RejectionCode::TransferExpired => Some(Self::Timeout),
            RejectionCode::AccountAlreadyExists
            | RejectionCode::InsufficientFunds
            | RejectionCode::BalanceNotZero
            | RejectionCode::AmountTooLarge
            | RejectionCode::InvalidAmount
            | RejectionCode::SameAccount
            | RejectionCode::TransferNotFound
            | RejectionCode::DuplicateTransfer
            | RejectionCode::IdempotencyKeyReused => None,
        }
    }
}

impl fmt::Display for TransferFailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A command the saga (or the API, for the debit) issues on behalf of a
/// transfer; names the step in [`CommandId::for_transfer_step`](crate::CommandId::for_transfer_step).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransferStep {
    /// `DebitForTransfer` on the source account.
    Debit,
    /// `CreditForTransfer` on the target account.
    Credit,
    /// `RefundTransfer` on the source account.
    Refund,
}

impl TransferStep {
    /// The step's name as hashed into derived command ids. Never change these.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Debit => "debit",
            Self::Credit => "credit",
            Self::Refund => "refund",
        }
    }
}

/// Where a transfer saga stands.
///
/// `Debited → Crediting → Credited → Completed` is the happy path;
/// `Crediting → Refunding → Failed` is the compensation path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum SagaStep {
    /// The source was debited; the credit has not been issued yet.
    Debited,
    /// `CreditForTransfer` was issued; waiting for its outcome.
    Crediting,
    /// The target was credited; `TransferCompleted` is due.
    Credited,
    /// The credit failed; `RefundTransfer` was issued to the source.
    Refunding,
    /// Terminal: money arrived at the target.
    Completed,
    /// Terminal: money went back to the source.
    Failed,
}

impl SagaStep {
    /// Whether the saga has finished (invariant 4: every transfer gets here).
    pub const fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_reason_code_matches_its_wire_name() {
        for reason in [
            TransferFailureReason::AccountNotFound,
            TransferFailureReason::AccountClosed,
            TransferFailureReason::CurrencyMismatch,
            TransferFailureReason::BalanceOverflow,
            TransferFailureReason::Timeout,
        ] {
            let json = serde_json::to_value(reason).unwrap();
            assert_eq!(json, reason.code());
        }
    }

    #[test]
    fn credit_rejections_map_to_reasons_with_the_same_code() {
        for code in RejectionCode::ALL {
            match TransferFailureReason::for_rejected_credit(code) {
                Some(TransferFailureReason::Timeout) => {
                    assert_eq!(code, RejectionCode::TransferExpired);
                }
                Some(reason) => assert_eq!(reason.code(), code.as_str()),
                None => {}
            }
        }
    }

    #[test]
    fn only_completed_and_failed_are_terminal() {
        assert!(SagaStep::Completed.is_terminal());
        assert!(SagaStep::Failed.is_terminal());
        assert!(!SagaStep::Refunding.is_terminal());
    }
}
