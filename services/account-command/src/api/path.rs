//! Ids in the URL path, validated with the JSON error shape: `400
//! invalid_account_id` / `invalid_command_id` instead of axum's plain-text
//! path rejection.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use eventbank_events::{AccountId, CommandId, IdError};
use eventbank_runtime::http::ApiError;

/// The `{id}` of `/accounts/{id}/…`.
#[derive(Debug, Clone, Copy)]
pub struct AccountIdParam(pub AccountId);

/// The `{command_id}` of `/commands/{command_id}`.
#[derive(Debug, Clone, Copy)]
pub struct CommandIdParam(pub CommandId);

async fn single_param<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    code: &'static str,
) -> Result<String, ApiError> {
    Path::<String>::from_request_parts(parts, state)
        .await
        .map(|Path(raw)| raw)
        .map_err(|rejection| ApiError::bad_request(code, rejection.body_text()))
}

fn invalid(code: &'static str, err: &IdError) -> ApiError {
    ApiError::bad_request(code, format!("{err} in the path; expected a UUID"))
}

impl<S: Send + Sync> FromRequestParts<S> for AccountIdParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        const CODE: &str = "invalid_account_id";
        let raw = single_param(parts, state, CODE).await?;
        AccountId::parse(&raw)
            .map(Self)
            .map_err(|err| invalid(CODE, &err))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CommandIdParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        const CODE: &str = "invalid_command_id";
        let raw = single_param(parts, state, CODE).await?;
        CommandId::parse(&raw)
            .map(Self)
            .map_err(|err| invalid(CODE, &err))
    }
}
