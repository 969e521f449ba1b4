//! `POST /transfers`: leg 1 of the saga, the debit of the source account.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use eventbank_events::{AccountCommand, AccountId, Amount, RejectionCode};
use eventbank_runtime::http::ApiError;

use super::AppState;
use super::documented_errors::TransferErrors;
use super::idempotency::{Idempotency, RequestIds};
use super::json::{Fields, JsonBody, StrictJson};
use super::middleware::Correlation;
use super::outcome_responses::CommandContext;
use super::schemas::{IdempotencyHeaders, TransferAccepted, TransferRequest};
use super::send_command::execute;

/// `{"from":"<account id>","to":"<account id>","amount":500}`
#[derive(Debug)]
pub struct TransferBody {
    pub from: AccountId,
    pub to: AccountId,
    pub amount: Amount,
}

impl JsonBody for TransferBody {
    const FIELDS: &'static [&'static str] = &["from", "to", "amount"];

    fn from_fields(fields: &mut Fields) -> Result<Self, ApiError> {
        let body = Self {
            from: fields.required("from", "invalid_account_id")?,
            to: fields.required("to", "invalid_account_id")?,
            amount: fields.required("amount", "invalid_amount")?,
        };
        if body.from == body.to {
            let code = RejectionCode::SameAccount;
            let status =
                StatusCode::from_u16(code.http_status_hint()).unwrap_or(StatusCode::BAD_REQUEST);
            return Err(ApiError::new(
                status,
                code.as_str(),
                "`from` and `to` are the same account",
            ));
        }
        Ok(body)
    }
}

/// Puts `DebitForTransfer` on the source account. Accepted → 202 `pending`
/// (the saga credits the target, or refunds the source if the target cannot
/// take it; its existence is not checked here). Rejected → the rejection.
#[utoipa::path(post, path = "/transfers", operation_id = "start_transfer", tag = "commands",
    params(IdempotencyHeaders),
    request_body(content = TransferRequest, content_type = "application/json"),
    responses(
        (status = 202, description = "The debit is done (`transfer_id`, `version`, \
            `balance`), or no result came in time (`result_url`)", body = TransferAccepted),
        TransferErrors,
    ))]
pub async fn create(
    State(state): State<AppState>,
    correlation: Correlation,
    Idempotency(key): Idempotency,
    StrictJson(body): StrictJson<TransferBody>,
) -> Response {
    // The key is scoped to the source account, like every other command's
    // to the account it acts on: that account's single writer is the one
    // authority that can refuse a reused key, and one transfer id can never
    // be debited from two accounts.
    let route = format!("POST /transfers from={}", body.from);
    let ids = RequestIds::new(key.as_ref(), &route);
    let transfer_id = ids.transfer_id();
    let command = AccountCommand::DebitForTransfer {
        transfer_id,
        to: body.to,
        amount: body.amount,
    };
    let context = CommandContext::Transfer { transfer_id };
    execute(&state, correlation, ids, body.from, command, context).await
}
