//! `POST /accounts`, `POST /accounts/{id}/deposits`, `/withdrawals`, `/close`.

use axum::extract::State;
use axum::response::Response;
use eventbank_events::{AccountCommand, AccountId, Amount, Currency, Holder};
use eventbank_runtime::http::ApiError;

use super::AppState;
use super::documented_errors::{CloseErrors, DepositErrors, OpenErrors, WithdrawErrors};
use super::idempotency::{Idempotency, IdempotencyKey, RequestIds};
use super::json::{EmptyBody, Fields, JsonBody, StrictJson};
use super::middleware::Correlation;
use super::outcome_responses::CommandContext;
use super::path::AccountIdParam;
use super::schemas::{
    AccountPath, AmountRequest, Changed, CloseRequest, IdempotencyHeaders, OpenAccountRequest,
    Opened, Pending,
};
use super::send_command::execute;

/// `{"holder":"Ann","currency":"EUR"}`
#[derive(Debug)]
pub struct OpenAccountBody {
    pub holder: Holder,
    pub currency: Currency,
}

impl JsonBody for OpenAccountBody {
    const FIELDS: &'static [&'static str] = &["holder", "currency"];

    fn from_fields(fields: &mut Fields) -> Result<Self, ApiError> {
        Ok(Self {
            holder: fields.required("holder", "invalid_holder")?,
            currency: fields.required("currency", "invalid_currency")?,
        })
    }
}

/// `{"amount":500}`, for deposits and withdrawals. An amount above
/// `limits.max_amount` is left to the processor (`422 amount_too_large`), the
/// one place the limit is enforced.
#[derive(Debug)]
pub struct AmountBody {
    pub amount: Amount,
}

impl JsonBody for AmountBody {
    const FIELDS: &'static [&'static str] = &["amount"];

    fn from_fields(fields: &mut Fields) -> Result<Self, ApiError> {
        Ok(Self {
            amount: fields.required("amount", "invalid_amount")?,
        })
    }
}

/// 201 with the new account; its id is derived from the `Idempotency-Key` if
/// there is one, so a retry opens the same account (once).
#[utoipa::path(post, path = "/accounts", operation_id = "open_account", tag = "commands",
    params(IdempotencyHeaders),
    request_body(content = OpenAccountRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Opened", body = Opened),
        (status = 202, description = "No result in time", body = Pending),
        OpenErrors,
    ))]
pub async fn open(
    State(state): State<AppState>,
    correlation: Correlation,
    Idempotency(key): Idempotency,
    StrictJson(body): StrictJson<OpenAccountBody>,
) -> Response {
    let ids = RequestIds::new(key.as_ref(), "POST /accounts");
    let account_id = ids.account_id();
    let command = AccountCommand::OpenAccount {
        holder: body.holder.clone(),
        currency: body.currency,
    };
    let context = CommandContext::OpenAccount {
        holder: body.holder,
        currency: body.currency,
    };
    execute(&state, correlation, ids, account_id, command, context).await
}

/// `POST /accounts/{id}/$route` with an [`AmountBody`]: the handler `$name`,
/// which asks for `AccountCommand::$command` of the amount.
macro_rules! amount_handler {
    ($(#[$doc:meta])* $name:ident, $route:literal, $command:ident) => {
        $(#[$doc])*
        pub async fn $name(
            State(state): State<AppState>,
            correlation: Correlation,
            AccountIdParam(account_id): AccountIdParam,
            Idempotency(key): Idempotency,
            StrictJson(body): StrictJson<AmountBody>,
        ) -> Response {
            let command = AccountCommand::$command {
                amount: body.amount,
            };
            let route = format!(concat!("POST /accounts/{}/", $route), account_id);
            change(&state, correlation, key, account_id, &route, command).await
        }
    };
}

amount_handler!(
    /// Puts money into the account.
    #[utoipa::path(post, path = "/accounts/{id}/deposits", operation_id = "deposit",
        tag = "commands", params(AccountPath, IdempotencyHeaders),
        request_body(content = AmountRequest, content_type = "application/json"),
        responses(
            (status = 200, description = "Deposited", body = Changed),
            (status = 202, description = "No result in time", body = Pending),
            DepositErrors,
        ))]
    deposit, "deposits", Deposit
);
amount_handler!(
    /// Takes money out of the account.
    #[utoipa::path(post, path = "/accounts/{id}/withdrawals", operation_id = "withdraw",
        tag = "commands", params(AccountPath, IdempotencyHeaders),
        request_body(content = AmountRequest, content_type = "application/json"),
        responses(
            (status = 200, description = "Withdrawn", body = Changed),
            (status = 202, description = "No result in time", body = Pending),
            WithdrawErrors,
        ))]
    withdraw, "withdrawals", Withdraw
);

/// A command that changes an existing account, answered with its new version
/// and balance. The idempotency key is scoped to `route`.
async fn change(
    state: &AppState,
    correlation: Correlation,
    key: Option<IdempotencyKey>,
    account_id: AccountId,
    route: &str,
    command: AccountCommand,
) -> Response {
    let ids = RequestIds::new(key.as_ref(), route);
    execute(
        state,
        correlation,
        ids,
        account_id,
        command,
        CommandContext::AccountChange,
    )
    .await
}

/// Closes an empty account. No body, an empty one, or `{}`.
#[utoipa::path(post, path = "/accounts/{id}/close", operation_id = "close_account",
    tag = "commands", params(AccountPath, IdempotencyHeaders),
    request_body(content = CloseRequest, content_type = "application/json",
        description = "Optional: no body, an empty one, or `{}`"),
    responses(
        (status = 200, description = "Closed", body = Changed),
        (status = 202, description = "No result in time", body = Pending),
        CloseErrors,
    ))]
pub async fn close(
    State(state): State<AppState>,
    correlation: Correlation,
    AccountIdParam(account_id): AccountIdParam,
    Idempotency(key): Idempotency,
    _body: EmptyBody,
) -> Response {
    let route = format!("POST /accounts/{account_id}/close");
    let command = AccountCommand::CloseAccount {};
    change(&state, correlation, key, account_id, &route, command).await
}
