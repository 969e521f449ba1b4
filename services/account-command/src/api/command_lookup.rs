//! `GET /commands/{command_id}`: the outcome of an earlier command, for the
//! client that got `202 pending` (or lost its connection).
//!
//! * known and accepted → 200 with the body the original request would have
//!   had, plus `"status":"accepted"` (for a transfer this `status` is the
//!   debit command's; the transfer's own is at balance-projector's
//!   `GET /transfers/{id}`). Fields only the request knew (`holder`,
//!   `currency`, `transfer_id`) are there when this instance sent the
//!   command; a result read back from the topic after a restart, or sent via
//!   another instance, has `account_id`, `version`, `balance`, `command_id`;
//! * known and rejected → the rejection's error JSON and status;
//! * unknown → 404 `command_not_found`. That includes a command still being
//!   processed: pending and unknown look the same, so a client polls until it
//!   gets an answer or gives up. Results are kept for the topic's retention
//!   and at most `api.result_cache_capacity` of them.

use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::Response;
use eventbank_runtime::http::ApiError;

use super::AppState;
use super::documented_errors::LookupErrors;
use super::outcome_responses::{self, Audience, CommandContext};
use super::path::CommandIdParam;
use super::schemas::{CommandPath, Looked};
use super::send_command::COMMAND_ID;

#[utoipa::path(get, path = "/commands/{command_id}", operation_id = "get_command",
    tag = "commands", params(CommandPath),
    responses(
        (status = 200, description = "Accepted: the command's answer", body = Looked),
        LookupErrors,
    ))]
pub async fn get(
    State(state): State<AppState>,
    CommandIdParam(command_id): CommandIdParam,
) -> Result<Response, ApiError> {
    let results = state.sender.results();
    let Some(result) = results.get(command_id) else {
        return Err(ApiError::not_found(
            "command_not_found",
            format!(
                "no outcome is known for command {command_id}: it may still be pending \
                 (retry shortly), or it is unknown or expired"
            ),
        ));
    };
    // An instance that did not send the command (or sent it before a
    // restart) has no context of its own; a transfer's result names its
    // transfer, which the answer must carry (the bank test under faults
    // found retried transfers answered without it).
    let context = results
        .context(command_id)
        .or_else(|| {
            result
                .transfer_id
                .map(|transfer_id| CommandContext::Transfer { transfer_id })
        })
        .unwrap_or(CommandContext::AccountChange);
    let mut response = outcome_responses::outcome(&context, &result, Audience::Lookup);
    if let Ok(value) = HeaderValue::from_str(&command_id.to_string()) {
        response.headers_mut().insert(COMMAND_ID, value);
    }
    Ok(response)
}
