//! The path every command handler ends in: build the envelope, send it, answer.

use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use eventbank_events::{AccountCommand, AccountId, CommandEnvelope};

use super::AppState;
use super::dispatch::Outgoing;
use super::idempotency::RequestIds;
use super::middleware::Correlation;
use super::outcome_responses::{self, CommandContext};

/// Every answer to a command that got as far as having an id carries it —
/// rejections, 503 and 202 included — so a client can always look it up or
/// quote it.
pub const COMMAND_ID: HeaderName = HeaderName::from_static("command-id");

/// Sends `command` for `account_id` and answers with its outcome.
pub async fn execute(
    state: &AppState,
    correlation: Correlation,
    ids: RequestIds<'_>,
    account_id: AccountId,
    command: AccountCommand,
    context: CommandContext,
) -> Response {
    let command_id = ids.command_id();
    let envelope = CommandEnvelope::new(command_id, account_id, correlation.0, Utc::now(), command);
    let sent = state
        .sender
        .send(Outgoing {
            envelope,
            context: context.clone(),
            idempotent: ids.is_idempotent(),
        })
        .await;
    let mut response = match sent {
        Ok(sent) => outcome_responses::answer(&context, command_id, account_id, sent),
        Err(err) => err.into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&command_id.to_string()) {
        response.headers_mut().insert(COMMAND_ID, value);
    }
    response
}
