//! What the OpenAPI document says of the query API beyond the handlers'
//! own attributes (in `api`): the bodies that are built as JSON values
//! (history lines come from Redis as stored), the query parameters, and the
//! error codes of each route.

use eventbank_runtime::api_errors;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::store::AccountView;

/// `GET /accounts/{id}`: the account, and whether the view was still behind
/// `min_version` when the wait ended (then also `X-Read-Model-Behind: true`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountRead {
    #[serde(flatten)]
    pub account: AccountView,
    pub behind: bool,
}

/// One line of an account's history (see `apply::HistoryEntry`); served as
/// stored, described here.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryLine {
    /// The event's sequence in the account's stream.
    pub sequence: u64,
    pub event_id: String,
    /// The event's type, e.g. `MoneyDeposited`.
    #[serde(rename = "type")]
    pub kind: String,
    pub occurred_at: String,
    pub holder: Option<String>,
    pub currency: Option<String>,
    /// Minor units.
    pub amount: Option<i64>,
    pub transfer_id: Option<String>,
    pub to: Option<String>,
    pub from: Option<String>,
    pub reason: Option<String>,
    /// Minor units.
    pub balance_after: Option<i64>,
}

/// `GET /accounts/{id}/transactions`: newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct Transactions {
    pub account_id: String,
    pub transactions: Vec<HistoryLine>,
    /// Pass as `before` for the next page; absent on the last one.
    pub next_before: Option<u64>,
}

/// `GET /accounts`: lowest balance first.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accounts {
    pub accounts: Vec<AccountView>,
}

/// `GET /admin/generation`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Generation {
    /// The generation of the view being served.
    pub current: u64,
}

/// 202 to `POST /admin/rebuild`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RebuildStarted {
    /// `rebuilding`.
    #[schema(pattern = "^rebuilding$")]
    pub status: String,
    /// The generation served until the rebuild switches.
    pub from: u64,
    /// The generation being built.
    pub generation: u64,
}

// The parameter lists below describe the query strings the handlers parse
// themselves (each bad value has its own code); nothing reads their fields.
// Optional ones are `required = false` rather than `Option`s, which would
// be documented as nullable: a query value is never null.

/// `GET /accounts/{id}`.
#[expect(dead_code, reason = "a description for the OpenAPI document")]
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountParams {
    /// Wait (bounded) until the view has reached this version.
    #[param(required = false, minimum = 0)]
    pub min_version: u64,
}

/// `GET /accounts/{id}/transactions`.
#[expect(dead_code, reason = "a description for the OpenAPI document")]
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TransactionsParams {
    /// At most this many lines (default 50).
    #[param(required = false, minimum = 1, maximum = 1000)]
    pub limit: u32,
    /// Only lines with a sequence below this (`next_before` of the previous page).
    #[param(required = false, minimum = 0)]
    pub before: u64,
}

/// `GET /accounts`.
#[expect(dead_code, reason = "a description for the OpenAPI document")]
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueryParams {
    /// Only accounts holding at least this much (minor units).
    #[param(required = false)]
    pub min_balance: i64,
    /// `open` or `closed`; both if absent.
    #[param(required = false, pattern = "^(open|closed)$")]
    pub status: String,
    /// At most this many accounts (default 50).
    #[param(required = false, minimum = 1, maximum = 1000)]
    pub limit: u32,
}

api_errors!(
    /// `GET /accounts/{id}`.
    AccountErrors {
        400 => ["invalid_account_id", "invalid_min_version"],
        404 => ["account_not_found"],
        503 => ["read_model_unavailable"],
    }
);

api_errors!(
    /// `GET /accounts/{id}/transactions`.
    TransactionsErrors {
        400 => ["invalid_account_id", "invalid_limit", "invalid_before"],
        404 => ["account_not_found"],
        503 => ["read_model_unavailable"],
    }
);

api_errors!(
    /// `GET /transfers/{id}`.
    TransferErrors {
        400 => ["invalid_transfer_id"],
        404 => ["transfer_not_found"],
        503 => ["read_model_unavailable"],
    }
);

api_errors!(
    /// `GET /accounts`.
    QueryErrors {
        400 => ["invalid_min_balance", "invalid_status", "invalid_limit"],
        503 => ["read_model_unavailable"],
    }
);

api_errors!(
    /// `GET /admin/generation`.
    GenerationErrors { 503 => ["read_model_unavailable"] }
);

api_errors!(
    /// `POST /admin/rebuild`.
    RebuildErrors {
        409 => ["rebuild_in_progress"],
        503 => ["rebuild_failed"],
    }
);

#[cfg(test)]
mod tests;
