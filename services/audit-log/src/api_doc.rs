//! What the OpenAPI document says of the audit API beyond the handlers'
//! own attributes (in `api`): the records as `AuditRecord::to_json` writes
//! them, the query parameters (parsed by `api::Params`, each bad value with
//! its own code) and the error codes of each route.

use eventbank_runtime::api_errors;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One recorded event or rejection, chained to its predecessor.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordDoc {
    pub stream_id: uuid::Uuid,
    /// `account` or `transfer`.
    pub stream_kind: String,
    /// The record's place in the stream's chain, from 1.
    pub position: i64,
    /// The event's sequence in its stream; null for a rejection.
    pub sequence: Option<i64>,
    pub event_id: uuid::Uuid,
    #[serde(rename = "type")]
    pub record_type: String,
    /// The record as read from Kafka.
    pub payload: serde_json::Value,
    pub kafka_topic: String,
    pub kafka_partition: i32,
    pub kafka_offset: i64,
    pub occurred_at: String,
    pub recorded_at: String,
    /// Hex SHA-256 of the predecessor (zeros for the first record).
    pub prev_hash: String,
    /// Hex SHA-256 over this record's fields and `prev_hash`.
    pub hash: String,
}

/// `GET /audit/streams/{id}` as JSON.
#[derive(Debug, Serialize, ToSchema)]
pub struct StreamPage {
    pub stream_id: uuid::Uuid,
    pub records: Vec<RecordDoc>,
    /// Pass as `after` for the next page (also `X-Next-After`); null on the last one.
    pub next_after: Option<i64>,
}

// The parameter lists describe query strings `api::Params` parses; nothing
// reads their fields. Optional ones are `required = false` rather than
// `Option`s, which would be documented as nullable: a query value is never
// null.

/// `GET /audit/streams/{id}`.
#[expect(dead_code, reason = "a description for the OpenAPI document")]
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamParams {
    /// Records from position `after + 1` (default 0: from the start).
    #[param(required = false, minimum = 0)]
    pub after: i64,
    /// At most this many records: JSON 1 to 1000 (default 100), the
    /// exports 1 to 100000 (default 10000).
    #[param(required = false, minimum = 1, maximum = 100000)]
    pub limit: i64,
    /// `json` (default), `jsonl` (or `ndjson`: one record a line) or `csv`.
    #[param(required = false, pattern = "^(json|jsonl|ndjson|csv)$")]
    pub format: String,
}

/// `GET /audit/verify`.
#[expect(dead_code, reason = "a description for the OpenAPI document")]
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyParams {
    /// Only this account's or transfer's chain.
    #[param(required = false)]
    pub stream: uuid::Uuid,
}

/// `GET /audit/reconcile`.
#[expect(dead_code, reason = "a description for the OpenAPI document")]
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReconcileParams {
    /// List at most this many mismatches (1 to 100000, default 1000).
    #[param(required = false, minimum = 1, maximum = 100000)]
    pub limit: i64,
}

api_errors!(
    /// `GET /audit/streams/{id}`.
    StreamErrors {
        400 => ["invalid_stream_id", "invalid_query", "unknown_parameter", "invalid_format",
            "invalid_limit", "invalid_after"],
        404 => ["stream_not_found"],
        503 => ["database_unavailable"],
    }
);

api_errors!(
    /// `GET /audit/verify`.
    VerifyErrors {
        400 => ["invalid_stream_id", "invalid_query", "unknown_parameter"],
        404 => ["stream_not_found"],
        503 => ["database_unavailable"],
    }
);

api_errors!(
    /// `GET /audit/reconcile`.
    ReconcileErrors {
        400 => ["invalid_query", "unknown_parameter", "invalid_limit"],
        503 => ["database_unavailable"],
    }
);

#[cfg(test)]
mod tests;
