//! Ids in the URL path, validated with the JSON error shape: `400
//! invalid_account_id` / `invalid_command_id` instead of axum's plain-text
//! path rejection.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use eventbank_events::{AccountId, CommandId, IdError};
use eventbank_runtime::http::ApiError;

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

/// A path id type `$param` wrapping `$id`, refused with `$code`.
macro_rules! id_param {
    ($(#[$doc:meta])* $param:ident($id:ident), $code:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $param(pub $id);

        impl<S: Send + Sync> FromRequestParts<S> for $param {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
                let raw = single_param(parts, state, $code).await?;
                $id::parse(&raw)
                    .map(Self)
                    .map_err(|err| invalid($code, &err))
            }
        }
    };
}

id_param!(
    /// The `{id}` of `/accounts/{id}/…`.
    AccountIdParam(AccountId),
    "invalid_account_id"
);
id_param!(
    /// The `{command_id}` of `/commands/{command_id}`.
    CommandIdParam(CommandId),
    "invalid_command_id"
);
