//! Every error code each command route can answer, by status, for the
//! OpenAPI document: the body checks (`json`, `path`, `idempotency`), the
//! processor's rejections for that command (`domain::decide`) and the
//! producer's 503. The guard's 401 and 403 are added with the scope.

use std::collections::BTreeMap;

use eventbank_events::RejectionCode;
use eventbank_runtime::api_errors;
use eventbank_runtime::http::openapi::add_errors;
use utoipa::IntoResponses;
use utoipa::openapi::RefOr;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::Response;

api_errors!(
    /// `POST /accounts`.
    OpenErrors {
        400 => ["invalid_body", "invalid_json", "duplicate_field", "unknown_field",
            "invalid_idempotency_key", "missing_holder", "missing_currency",
            "invalid_holder", "invalid_currency"],
        409 => ["account_already_exists"],
        413 => ["payload_too_large"],
        415 => ["unsupported_media_type"],
        422 => ["idempotency_key_reused"],
        503 => ["kafka_unavailable"],
    }
);

api_errors!(
    /// `POST /accounts/{id}/deposits`.
    DepositErrors {
        400 => ["invalid_account_id", "invalid_body", "invalid_json", "duplicate_field",
            "unknown_field", "invalid_idempotency_key", "missing_amount", "invalid_amount"],
        404 => ["account_not_found"],
        413 => ["payload_too_large"],
        415 => ["unsupported_media_type"],
        422 => ["account_closed", "amount_too_large", "balance_overflow",
            "idempotency_key_reused"],
        503 => ["kafka_unavailable"],
    }
);

api_errors!(
    /// `POST /accounts/{id}/withdrawals`.
    WithdrawErrors {
        400 => ["invalid_account_id", "invalid_body", "invalid_json", "duplicate_field",
            "unknown_field", "invalid_idempotency_key", "missing_amount", "invalid_amount"],
        404 => ["account_not_found"],
        413 => ["payload_too_large"],
        415 => ["unsupported_media_type"],
        422 => ["account_closed", "amount_too_large", "insufficient_funds",
            "idempotency_key_reused"],
        503 => ["kafka_unavailable"],
    }
);

api_errors!(
    /// `POST /accounts/{id}/close`.
    CloseErrors {
        400 => ["invalid_account_id", "invalid_body", "invalid_json", "duplicate_field",
            "unknown_field", "invalid_idempotency_key"],
        404 => ["account_not_found"],
        413 => ["payload_too_large"],
        415 => ["unsupported_media_type"],
        422 => ["account_closed", "balance_not_zero", "idempotency_key_reused"],
        503 => ["kafka_unavailable"],
    }
);

api_errors!(
    /// `POST /transfers` (the debit of the source account).
    TransferErrors {
        400 => ["invalid_body", "invalid_json", "duplicate_field", "unknown_field",
            "invalid_idempotency_key", "missing_from", "missing_to", "missing_amount",
            "invalid_account_id", "invalid_amount", "same_account"],
        404 => ["account_not_found"],
        413 => ["payload_too_large"],
        415 => ["unsupported_media_type"],
        422 => ["account_closed", "amount_too_large", "insufficient_funds",
            "idempotency_key_reused"],
        503 => ["kafka_unavailable"],
    }
);

/// `GET /commands/{command_id}`: a rejected command's answer is its
/// rejection, so every rejection code is possible, at its status.
#[derive(Debug)]
pub struct LookupErrors;

impl IntoResponses for LookupErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut operation = Operation::new();
        add_errors(&mut operation, 400, &["invalid_command_id"]);
        add_errors(&mut operation, 404, &["command_not_found"]);
        for code in RejectionCode::ALL {
            add_errors(&mut operation, code.http_status_hint(), &[code.as_str()]);
        }
        operation.responses.responses
    }
}
