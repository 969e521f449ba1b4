//! The bodies of the command API as the OpenAPI document describes them.
//! The answers are serialized from these types (see `outcome_responses`),
//! so the document describes what is sent; the requests are parsed field by
//! field (`json`) for their error codes, and their types here mirror those
//! checks, which the contract test holds to the document.

use eventbank_events::{AccountId, CommandId, Currency, Holder, Money, TransferId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The headers every command takes. Optional headers are `required =
/// false` rather than `Option`s, which would be documented as nullable.
#[expect(
    dead_code,
    reason = "a description for the OpenAPI document: requests are parsed field by field (`json`, `path`, `idempotency`)"
)]
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyHeaders {
    /// 1 to 200 printable ASCII characters. A retry with the same key gets
    /// the first outcome and changes nothing; the same key with a different
    /// request gets 422 `idempotency_key_reused`.
    #[serde(rename = "Idempotency-Key")]
    #[param(
        required = false,
        min_length = 1,
        max_length = 200,
        pattern = "^[ -~]{1,200}$"
    )]
    pub idempotency_key: String,
    /// A UUID carried by the command and all it causes (echoed back);
    /// anything else is replaced by a fresh one.
    #[serde(rename = "X-Correlation-Id")]
    #[param(required = false)]
    pub correlation_id: String,
}

/// `{id}` in `/accounts/{id}/...`.
#[expect(
    dead_code,
    reason = "a description for the OpenAPI document: requests are parsed field by field (`json`, `path`, `idempotency`)"
)]
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AccountPath {
    /// The account's id (a UUID).
    pub id: uuid::Uuid,
}

/// `{command_id}` in `/commands/{command_id}`.
#[expect(
    dead_code,
    reason = "a description for the OpenAPI document: requests are parsed field by field (`json`, `path`, `idempotency`)"
)]
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CommandPath {
    /// The command's id (a UUID), from the `Command-Id` header or `result_url`.
    pub command_id: uuid::Uuid,
}

/// `POST /accounts`.
#[expect(
    dead_code,
    reason = "a description for the OpenAPI document: requests are parsed field by field (`json`, `path`, `idempotency`)"
)]
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenAccountRequest {
    /// The holder's name: 1 to 200 characters once trimmed, no control characters.
    #[schema(min_length = 1, max_length = 200, example = "Ann")]
    pub holder: String,
    /// ISO-4217 code: three uppercase letters.
    #[schema(pattern = "^[A-Z]{3}$", example = "EUR")]
    pub currency: String,
}

/// `POST /accounts/{id}/deposits` and `/withdrawals`.
#[expect(
    dead_code,
    reason = "a description for the OpenAPI document: requests are parsed field by field (`json`, `path`, `idempotency`)"
)]
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmountRequest {
    /// Minor units (cents), greater than zero.
    #[schema(minimum = 1, example = 500)]
    pub amount: i64,
}

/// `POST /accounts/{id}/close`: no body, an empty one, or `{}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {}

/// `POST /transfers`.
#[expect(
    dead_code,
    reason = "a description for the OpenAPI document: requests are parsed field by field (`json`, `path`, `idempotency`)"
)]
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// The account debited.
    pub from: uuid::Uuid,
    /// The account credited; not the source.
    pub to: uuid::Uuid,
    /// Minor units (cents), greater than zero.
    #[schema(minimum = 1, example = 500)]
    pub amount: i64,
}

/// 201 to `POST /accounts`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Opened {
    #[schema(value_type = uuid::Uuid)]
    pub account_id: AccountId,
    /// Always 1: the account's first event.
    pub version: u64,
    #[schema(value_type = String)]
    pub holder: Holder,
    #[schema(value_type = String)]
    pub currency: Currency,
    /// Minor units.
    #[schema(value_type = i64)]
    pub balance: Money,
    #[schema(value_type = uuid::Uuid)]
    pub command_id: CommandId,
}

/// 200 to a deposit, withdrawal or close: the account afterwards.
#[derive(Debug, Serialize, ToSchema)]
pub struct Changed {
    #[schema(value_type = uuid::Uuid)]
    pub account_id: AccountId,
    /// The account's version (its last event's sequence) afterwards.
    pub version: u64,
    /// Minor units.
    #[schema(value_type = i64)]
    pub balance: Money,
    #[schema(value_type = uuid::Uuid)]
    pub command_id: CommandId,
}

/// 202 to `POST /transfers`: the debit is done, the saga does the rest
/// (follow it at balance-projector's `GET /transfers/{id}`).
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferStarted {
    #[schema(value_type = uuid::Uuid)]
    pub transfer_id: TransferId,
    /// The transfer's status: `pending`.
    #[schema(pattern = "^pending$", example = "pending")]
    pub status: &'static str,
    #[schema(value_type = uuid::Uuid)]
    pub command_id: CommandId,
    /// The source account's version after the debit.
    pub version: u64,
    /// The source account's balance after the debit, minor units.
    #[schema(value_type = i64)]
    pub balance: Money,
}

/// 202: no result within the time-out. The command is on its way and may
/// still take effect; its outcome will be at `result_url` (also `Location`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Pending {
    #[schema(value_type = uuid::Uuid)]
    pub command_id: CommandId,
    /// `pending`.
    #[schema(pattern = "^pending$", example = "pending")]
    pub status: &'static str,
    /// `/commands/{command_id}`.
    pub result_url: String,
    #[schema(value_type = uuid::Uuid)]
    pub account_id: AccountId,
    /// For a transfer.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub transfer_id: Option<TransferId>,
}

/// 202 to `POST /transfers`: started, or no result in time.
#[expect(
    dead_code,
    reason = "a description for the OpenAPI document: the answers are each built as the variant's own type"
)]
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum TransferAccepted {
    Started(TransferStarted),
    Pending(Pending),
}

/// 200 to `GET /commands/{command_id}`: the accepted command's answer,
/// with `status` `accepted`. `holder`, `currency` and `transfer_id` are
/// there when the instance asked had sent the command itself; a transfer's
/// answer has no `account_id`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Looked {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub account_id: Option<AccountId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub transfer_id: Option<TransferId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub holder: Option<Holder>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub currency: Option<Currency>,
    /// `accepted`.
    #[schema(pattern = "^accepted$", example = "accepted")]
    pub status: &'static str,
    pub version: u64,
    /// Minor units.
    #[schema(value_type = i64)]
    pub balance: Money,
    #[schema(value_type = uuid::Uuid)]
    pub command_id: CommandId,
}
