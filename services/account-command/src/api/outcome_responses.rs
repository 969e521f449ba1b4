//! Turning a command's outcome into the HTTP answer the contract promises.
//!
//! | command        | accepted                                                                      |
//! |----------------|-------------------------------------------------------------------------------|
//! | open account   | 201 `{"account_id","version","holder","currency","balance","command_id"}`     |
//! | deposit, withdrawal, close | 200 `{"account_id","version","balance","command_id"}`             |
//! | transfer       | 202 `{"transfer_id","status":"pending","command_id","version","balance"}`     |
//!
//! A rejection is the error JSON with the rejection's code and
//! [`http_status_hint`](eventbank_events::RejectionCode::http_status_hint). No
//! result in time: 202 `{"command_id","status":"pending","result_url","account_id"[,"transfer_id"]}`
//! with a `Location` header.

use super::dispatch::Sent;
use super::schemas::{Changed, Looked, Opened, Pending, TransferStarted};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use eventbank_events::{
    AccountId, CommandId, CommandOutcome, CommandResult, Currency, Holder, Rejection, TransferId,
};
use eventbank_runtime::http::ApiError;

/// Set on an answer that was served from the result cache: a repeated
/// `Idempotency-Key` whose first outcome is known. Nothing was produced.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// What a success body needs besides the command's result. Known for the
/// commands this instance sent; a result read from the topic alone has only
/// the account's id, version and balance, which is exactly
/// [`CommandContext::AccountChange`]'s body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandContext {
    OpenAccount {
        holder: Holder,
        currency: Currency,
    },
    /// Deposit, withdrawal, close.
    AccountChange,
    Transfer {
        transfer_id: TransferId,
    },
}

/// Who asks: the request that sent the command, or `GET /commands/{id}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The command's own request: its success status (201, 200 or 202).
    Request,
    /// A later lookup: always 200, with `"status":"accepted"`.
    Lookup,
}

/// The answer to a command's own request, however sending it went.
pub fn answer(
    context: &CommandContext,
    command_id: CommandId,
    account_id: AccountId,
    sent: Sent,
) -> Response {
    match sent {
        Sent::Completed(result) => outcome(context, &result, Audience::Request),
        Sent::Replayed(result) => replayed(outcome(context, &result, Audience::Request)),
        Sent::Pending => pending(command_id, account_id, context),
    }
}

/// The answer to a command whose result is known.
pub fn outcome(context: &CommandContext, result: &CommandResult, audience: Audience) -> Response {
    let (version, balance) = match &result.outcome {
        CommandOutcome::Accepted {
            version, balance, ..
        } => (*version, *balance),
        CommandOutcome::Rejected { rejection } => return rejected(rejection).into_response(),
    };
    let command_id = result.command_id;
    let account_id = result.account_id;
    if audience == Audience::Lookup {
        // For a transfer, `status` is the command's here; the transfer's
        // own status is served by balance-projector's `GET /transfers/{id}`.
        let mut looked = Looked {
            account_id: Some(account_id),
            transfer_id: None,
            holder: None,
            currency: None,
            status: "accepted",
            version,
            balance,
            command_id,
        };
        match context {
            CommandContext::OpenAccount { holder, currency } => {
                looked.holder = Some(holder.clone());
                looked.currency = Some(*currency);
            }
            CommandContext::AccountChange => {}
            CommandContext::Transfer { transfer_id } => {
                looked.account_id = None;
                looked.transfer_id = Some(*transfer_id);
            }
        }
        return (StatusCode::OK, axum::Json(looked)).into_response();
    }
    match context {
        CommandContext::OpenAccount { holder, currency } => {
            let body = Opened {
                account_id,
                version,
                holder: holder.clone(),
                currency: *currency,
                balance,
                command_id,
            };
            (StatusCode::CREATED, axum::Json(body)).into_response()
        }
        CommandContext::AccountChange => {
            let body = Changed {
                account_id,
                version,
                balance,
                command_id,
            };
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        CommandContext::Transfer { transfer_id } => {
            let body = TransferStarted {
                transfer_id: *transfer_id,
                // The transfer's status: the debit is done, the saga does the rest.
                status: "pending",
                command_id,
                version,
                balance,
            };
            (StatusCode::ACCEPTED, axum::Json(body)).into_response()
        }
    }
}

/// A rejection as the error JSON, with the status its code suggests.
pub fn rejected(rejection: &Rejection) -> ApiError {
    let status = StatusCode::from_u16(rejection.code.http_status_hint())
        .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
    ApiError::new(status, rejection.code.as_str(), rejection.message.clone())
}

/// The relative URL where the outcome of `command_id` can be fetched.
pub fn result_url(command_id: CommandId) -> String {
    format!("/commands/{command_id}")
}

/// 202: the command was sent (or is being sent) but its result did not arrive
/// in time. The body carries every id the client could not know otherwise.
pub fn pending(command_id: CommandId, account_id: AccountId, context: &CommandContext) -> Response {
    let url = result_url(command_id);
    let transfer_id = match context {
        CommandContext::Transfer { transfer_id } => Some(*transfer_id),
        CommandContext::OpenAccount { .. } | CommandContext::AccountChange => None,
    };
    let body = Pending {
        command_id,
        status: "pending",
        result_url: url.clone(),
        account_id,
        transfer_id,
    };
    let mut response = (StatusCode::ACCEPTED, axum::Json(body)).into_response();
    if let Ok(location) = HeaderValue::from_str(&url) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// Marks `response` as served from the cache of an earlier identical request.
pub fn replayed(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use axum::body::to_bytes;
    use eventbank_events::RejectionCode;
    use serde_json::{Value, json};

    use super::*;
    use crate::api::test_results;

    fn accepted(version: u64, balance: i64) -> CommandResult {
        test_results::accepted(CommandId::new(), AccountId::new(), version, balance)
    }

    async fn body(response: Response) -> (StatusCode, Value) {
        let status = response.status();
        let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn open_account_is_201_with_holder_and_currency() {
        let result = accepted(1, 0);
        let context = CommandContext::OpenAccount {
            holder: Holder::parse("Ann").unwrap(),
            currency: Currency::EUR,
        };
        let (status, json) = body(outcome(&context, &result, Audience::Request)).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(
            json,
            json!({
                "account_id": result.account_id.to_string(),
                "version": 1,
                "holder": "Ann",
                "currency": "EUR",
                "balance": 0,
                "command_id": result.command_id.to_string(),
            })
        );
    }

    #[tokio::test]
    async fn account_change_is_200_and_lookup_adds_the_status() {
        let result = accepted(3, 500);
        let answer = |audience| body(outcome(&CommandContext::AccountChange, &result, audience));
        let (status, json) = answer(Audience::Request).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            json,
            json!({
                "account_id": result.account_id.to_string(),
                "version": 3,
                "balance": 500,
                "command_id": result.command_id.to_string(),
            })
        );
        let (status, json) = answer(Audience::Lookup).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(json["status"], "accepted");
        assert_eq!(json["balance"], 500);
    }

    #[tokio::test]
    async fn transfer_is_202_pending_and_lookup_says_accepted() {
        let result = accepted(4, 100);
        let transfer_id = TransferId::new();
        let context = CommandContext::Transfer { transfer_id };
        let (status, json) = body(outcome(&context, &result, Audience::Request)).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        assert_eq!(
            json,
            json!({
                "transfer_id": transfer_id.to_string(),
                "status": "pending",
                "command_id": result.command_id.to_string(),
                "version": 4,
                "balance": 100,
            })
        );
        let (status, json) = body(outcome(&context, &result, Audience::Lookup)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(json["status"], "accepted");
        assert_eq!(json["transfer_id"], transfer_id.to_string());
    }

    #[tokio::test]
    async fn rejections_use_the_codes_status_hint() {
        for (code, expected) in [
            (
                RejectionCode::InsufficientFunds,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (RejectionCode::AccountNotFound, StatusCode::NOT_FOUND),
            (RejectionCode::AccountAlreadyExists, StatusCode::CONFLICT),
            (
                RejectionCode::BalanceNotZero,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        ] {
            let mut result = accepted(1, 0);
            result.outcome = CommandOutcome::rejected(code, "nope");
            for audience in [Audience::Request, Audience::Lookup] {
                let (status, json) =
                    body(outcome(&CommandContext::AccountChange, &result, audience)).await;
                assert_eq!(status, expected, "{code}");
                assert_eq!(
                    json,
                    json!({"error": {"code": code.as_str(), "message": "nope"}})
                );
            }
        }
    }

    #[tokio::test]
    async fn pending_has_a_location_and_every_id() {
        let command_id = CommandId::new();
        let account_id = AccountId::new();
        let transfer_id = TransferId::new();
        let response = pending(
            command_id,
            account_id,
            &CommandContext::Transfer { transfer_id },
        );
        let location = response.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(location, format!("/commands/{command_id}"));
        let (status, json) = body(response).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        assert_eq!(
            json,
            json!({
                "command_id": command_id.to_string(),
                "status": "pending",
                "result_url": location,
                "account_id": account_id.to_string(),
                "transfer_id": transfer_id.to_string(),
            })
        );
    }
}
