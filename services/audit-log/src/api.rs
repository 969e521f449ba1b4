//! The audit HTTP API (DESIGN.md, port 8083).
//!
//! | endpoint | answer |
//! |---|---|
//! | `GET /audit/streams/{id}?after=&limit=&format=` | the stream's records from position `after + 1`, as JSON (`{"records", "next_after"}`), JSON Lines or CSV (`X-Next-After` header when there is more) |
//! | `GET /audit/verify?stream=` | every chain (or one) recomputed; the first broken link; whether retention deleted source records before they were read (`complete`, `retention_gaps`) |
//! | `GET /audit/reconcile?limit=` | balances recomputed from events vs `balance_after` |
//!
//! Every route needs a bearer token with the `audit` scope. Every error is
//! the runtime's JSON error; a database that cannot be reached is a 503.
//! Each route is registered with its OpenAPI description (`routes!`;
//! records, parameters and error codes in `api_doc`).

use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use eventbank_runtime::http::{ApiError, Auth, Scope};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api_doc::{
    ReconcileErrors, ReconcileParams, StreamErrors, StreamPage, StreamParams, VerifyErrors,
    VerifyParams,
};

use crate::db::{Db, DbError};
use crate::record::CSV_HEADER;
use crate::store::{self, ReconcileReport, VerifyReport};
use crate::watch::Instruments;

/// Page sizes: JSON pages are for browsing, exports for downloading.
const JSON_PAGE: (i64, i64) = (100, 1_000);
const EXPORT_PAGE: (i64, i64) = (10_000, 100_000);
const RECONCILE_LIMIT: (i64, i64) = (1_000, 100_000);
const NEXT_AFTER: HeaderName = HeaderName::from_static("x-next-after");

#[derive(Debug, Clone)]
pub struct ApiState {
    pub db: Db,
    pub instruments: Instruments,
}

/// The routes with their documentation, before the state is given.
pub fn documented(auth: &Auth) -> OpenApiRouter<ApiState> {
    let audit = OpenApiRouter::new()
        .routes(routes!(stream))
        .routes(routes!(verify))
        .routes(routes!(reconcile));
    auth.protect_documented(Scope::Audit, audit)
}

/// Every route needs the `audit` scope.
pub fn router(state: ApiState, auth: &Auth) -> OpenApiRouter {
    documented(auth).with_state(state)
}

/// The service's whole OpenAPI document, as `/openapi.json` serves it.
pub fn openapi() -> utoipa::openapi::OpenApi {
    eventbank_runtime::http::openapi::document(
        "audit-log",
        env!("CARGO_PKG_VERSION"),
        documented(&Auth::disabled()).into_openapi(),
    )
}

type QueryParams = Result<Query<HashMap<String, String>>, QueryRejection>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    JsonLines,
    Csv,
}

/// A stream's records, a page at a time, as JSON, JSON Lines or CSV.
#[utoipa::path(get, path = "/audit/streams/{id}", tag = "audit",
    params(("id" = Uuid, Path, description = "An account's or a transfer's id"), StreamParams),
    responses(
        (status = 200, description = "A page (`X-Next-After` when there is more)",
            headers(("X-Next-After" = i64, description = "`after` for the next page")),
            content(
                (StreamPage = "application/json"),
                (String = "application/x-ndjson"),
                (String = "text/csv"),
            )),
        StreamErrors,
    ))]
async fn stream(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    query: QueryParams,
) -> Result<Response, ApiError> {
    let stream_id = parse_stream(&id)?;
    let params = Params::new(query, &["after", "limit", "format"])?;
    let format = match params.get("format").unwrap_or("json") {
        "json" => Format::Json,
        "jsonl" | "ndjson" => Format::JsonLines,
        "csv" => Format::Csv,
        other => {
            return Err(ApiError::bad_request(
                "invalid_format",
                format!("format {other:?} is not one of json, jsonl, csv"),
            ));
        }
    };
    let (default, max) = if format == Format::Json {
        JSON_PAGE
    } else {
        EXPORT_PAGE
    };
    let limit = params.int("limit", default, 1, max)?;
    let after = params.int("after", 0, 0, i64::MAX)?;

    let client = state.db.shared().await.map_err(unavailable)?;
    let calls = &state.instruments.calls;
    let mut records = calls
        .time(
            "read_stream",
            store::stream_page(&client, stream_id, after, limit + 1),
        )
        .await
        .map_err(|err| unavailable(err.into()))?;
    let more = records.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    records.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    if records.is_empty()
        && !store::stream_exists(&client, stream_id)
            .await
            .map_err(|err| unavailable(err.into()))?
    {
        return Err(ApiError::not_found(
            "stream_not_found",
            format!("nothing is recorded for stream {stream_id}"),
        ));
    }
    let next_after = more.then(|| records.last().map(|r| r.position)).flatten();

    let response = match format {
        Format::Json => axum::Json(json!({
            "stream_id": stream_id,
            "records": records.iter().map(|r| r.to_json()).collect::<Vec<_>>(),
            "next_after": next_after,
        }))
        .into_response(),
        Format::JsonLines => {
            let mut body = String::new();
            for record in &records {
                body.push_str(&record.to_json().to_string());
                body.push('\n');
            }
            ([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response()
        }
        Format::Csv => {
            let mut body = String::from(CSV_HEADER);
            for record in &records {
                body.push_str(&record.to_csv_line());
            }
            ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response()
        }
    };
    Ok(with_next_after(response, next_after))
}

fn with_next_after(mut response: Response, next_after: Option<i64>) -> Response {
    if let Some(next) = next_after
        && let Ok(value) = HeaderValue::from_str(&next.to_string())
    {
        response.headers_mut().insert(NEXT_AFTER, value);
    }
    response
}

/// Recomputes the chains (or one) and reports the first broken link.
#[utoipa::path(get, path = "/audit/verify", tag = "audit", params(VerifyParams),
    responses((status = 200, description = "The report", body = VerifyReport), VerifyErrors))]
async fn verify(State(state): State<ApiState>, query: QueryParams) -> Result<Response, ApiError> {
    let params = Params::new(query, &["stream"])?;
    let stream = params.get("stream").map(parse_stream).transpose()?;
    // A scan gets a connection of its own (see `db`).
    let mut client = state.db.connect().await.map_err(unavailable)?;
    let report = state
        .instruments
        .verify(&mut client, stream)
        .await
        .map_err(|err| unavailable(err.into()))?;
    if let Some(stream) = stream
        && report.streams_checked == 0
    {
        return Err(ApiError::not_found(
            "stream_not_found",
            format!("nothing is recorded for stream {stream}"),
        ));
    }
    Ok(axum::Json(report).into_response())
}

/// Balances recomputed from the events against their `balance_after`.
#[utoipa::path(get, path = "/audit/reconcile", tag = "audit", params(ReconcileParams),
    responses((status = 200, description = "The report", body = ReconcileReport),
        ReconcileErrors))]
async fn reconcile(
    State(state): State<ApiState>,
    query: QueryParams,
) -> Result<Response, ApiError> {
    let params = Params::new(query, &["limit"])?;
    let (default, max) = RECONCILE_LIMIT;
    let limit = params.int("limit", default, 1, max)?;
    let mut client = state.db.connect().await.map_err(unavailable)?;
    let report = state
        .instruments
        .calls
        .time(
            "reconcile",
            store::reconcile(&mut client, usize::try_from(limit).unwrap_or(usize::MAX)),
        )
        .await
        .map_err(|err| unavailable(err.into()))?;
    Ok(axum::Json(report).into_response())
}

fn parse_stream(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| {
        ApiError::bad_request(
            "invalid_stream_id",
            format!("{text:?} is not an account or transfer id (a UUID)"),
        )
    })
}

fn unavailable(err: DbError) -> ApiError {
    ApiError::dependency_failed(
        "database_unavailable",
        "the audit trail cannot be read right now; retry shortly",
        &err,
    )
}

/// Query parameters, unknown names refused (a typo must not be ignored).
struct Params(HashMap<String, String>);

impl Params {
    fn new(query: QueryParams, allowed: &[&str]) -> Result<Self, ApiError> {
        let Query(map) =
            query.map_err(|err| ApiError::bad_request("invalid_query", err.body_text()))?;
        if let Some(unknown) = map.keys().find(|key| !allowed.contains(&key.as_str())) {
            return Err(ApiError::bad_request(
                "unknown_parameter",
                format!(
                    "unknown query parameter {unknown:?}; known: {}",
                    allowed.join(", ")
                ),
            ));
        }
        Ok(Self(map))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn int(&self, name: &str, default: i64, min: i64, max: i64) -> Result<i64, ApiError> {
        let Some(text) = self.get(name) else {
            return Ok(default);
        };
        text.parse::<i64>()
            .ok()
            .filter(|value| (min..=max).contains(value))
            .ok_or_else(|| {
                ApiError::bad_request(
                    format!("invalid_{name}"),
                    format!("{name} must be an integer from {min} to {max}, got {text:?}"),
                )
            })
    }
}
