//! The query API (DESIGN.md, balance-projector): the views need a bearer
//! token with the `read` scope, `/admin/*` one with `admin`. Each route is
//! registered with its OpenAPI description (`routes!`; bodies, parameters
//! and error codes in `api_doc`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use eventbank_events::{AccountId, TransferId};
use eventbank_runtime::http::{ApiError, Auth, Scope};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api_doc::{
    AccountErrors, AccountParams, AccountRead, Accounts, Generation, GenerationErrors, QueryErrors,
    QueryParams, RebuildErrors, RebuildStarted, Transactions, TransactionsErrors,
    TransactionsParams, TransferErrors,
};
use crate::rebuild::{Projectors, RebuildError};
use crate::store::{Store, StoreError, TransferView};

/// Header set when a `min_version` read timed out before the view caught up.
pub const BEHIND_HEADER: &str = "x-read-model-behind";

const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 1000;
/// How often a `min_version` read re-reads when no local batch woke it (the
/// account may be projected by another instance).
const POLL: Duration = Duration::from_millis(25);

#[derive(Debug, Clone)]
pub struct ApiState {
    pub store: Store,
    pub read_wait: Duration,
    pub projectors: Projectors,
}

impl ApiState {
    /// The store at the generation currently served.
    async fn serving(&self) -> Result<Store, ApiError> {
        self.store.serving().await.map_err(internal)
    }
}

/// The routes with their documentation, before the state is given.
pub fn documented(auth: &Auth) -> OpenApiRouter<ApiState> {
    let views = OpenApiRouter::new()
        .routes(routes!(query_accounts))
        .routes(routes!(get_account))
        .routes(routes!(get_transactions))
        .routes(routes!(get_transfer));
    let admin = OpenApiRouter::new()
        .routes(routes!(get_generation))
        .routes(routes!(post_rebuild));
    auth.protect_documented(Scope::Read, views)
        .merge(auth.protect_documented(Scope::Admin, admin))
}

/// The views need the `read` scope; `/admin/*` (the served generation, a
/// rebuild) needs `admin`.
pub fn router(state: ApiState, auth: &Auth) -> OpenApiRouter {
    documented(auth).with_state(state)
}

/// The service's whole OpenAPI document, as `/openapi.json` serves it.
pub fn openapi() -> utoipa::openapi::OpenApi {
    eventbank_runtime::http::openapi::document(
        "balance-projector",
        env!("CARGO_PKG_VERSION"),
        documented(&Auth::disabled()).into_openapi(),
    )
}

fn internal(err: StoreError) -> ApiError {
    ApiError::dependency_failed(
        "read_model_unavailable",
        "the read model cannot be read right now; retry shortly",
        &err,
    )
}

fn parse_account(id: &str) -> Result<String, ApiError> {
    AccountId::parse(id)
        .map(|id| id.to_string())
        .map_err(|_| ApiError::bad_request("invalid_account_id", "account id must be a UUID"))
}

fn parse_number<T: std::str::FromStr>(
    params: &HashMap<String, String>,
    name: &str,
) -> Result<Option<T>, ApiError> {
    params
        .get(name)
        .map(|raw| {
            raw.parse().map_err(|_| {
                ApiError::bad_request(
                    format!("invalid_{name}"),
                    format!("{name} must be a number"),
                )
            })
        })
        .transpose()
}

fn parse_limit(params: &HashMap<String, String>) -> Result<usize, ApiError> {
    let limit = parse_number::<usize>(params, "limit")?.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::bad_request(
            "invalid_limit",
            format!("limit must be between 1 and {MAX_LIMIT}"),
        ));
    }
    Ok(limit)
}

/// An account, optionally once the view has reached a version.
#[utoipa::path(get, path = "/accounts/{id}", tag = "views", params(("id" = uuid::Uuid, Path, description = "The account's id"), AccountParams),
    responses((status = 200, description = "The account", body = AccountRead,
        headers(("X-Read-Model-Behind" = String,
            description = "`true` when the view had not reached `min_version` in time"))),
        AccountErrors))]
async fn get_account(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let id = parse_account(&id)?;
    let min_version = params
        .get("min_version")
        .map(|raw| {
            raw.parse::<u64>().map_err(|_| {
                ApiError::bad_request(
                    "invalid_min_version",
                    "min_version must be a non-negative integer",
                )
            })
        })
        .transpose()?;
    let deadline = Instant::now() + state.read_wait;
    let applied = state.store.applied();
    loop {
        // Registered before the read, so a batch applied between the read
        // and the wait still wakes it.
        let woken = applied.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let account = state
            .serving()
            .await?
            .account(&id)
            .await
            .map_err(internal)?;
        let reached = match (&account, min_version) {
            (_, None) => true,
            (Some(account), Some(min)) => account.version >= min,
            (None, Some(_)) => false,
        };
        if reached || Instant::now() >= deadline {
            let Some(account) = account else {
                return Err(ApiError::not_found(
                    "account_not_found",
                    format!("no account {id} in the read model"),
                ));
            };
            let behind = !reached;
            let mut response = Json(AccountRead { account, behind }).into_response();
            if behind {
                response
                    .headers_mut()
                    .insert(BEHIND_HEADER, HeaderValue::from_static("true"));
            }
            return Ok(response);
        }
        let retry_at = deadline.min(Instant::now() + POLL);
        tokio::select! {
            () = &mut woken => {}
            () = tokio::time::sleep_until(retry_at.into()) => {}
        }
    }
}

/// An account's history, newest first, a page at a time.
#[utoipa::path(get, path = "/accounts/{id}/transactions", tag = "views",
    params(("id" = uuid::Uuid, Path, description = "The account's id"), TransactionsParams),
    responses((status = 200, description = "A page", body = Transactions), TransactionsErrors))]
async fn get_transactions(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = parse_account(&id)?;
    let limit = parse_limit(&params)?;
    let before = parse_number::<u64>(&params, "before")?;
    let store = state.serving().await?;
    if store.account(&id).await.map_err(internal)?.is_none() {
        return Err(ApiError::not_found(
            "account_not_found",
            format!("no account {id} in the read model"),
        ));
    }
    let entries = store.history(&id, limit, before).await.map_err(internal)?;
    let next_before = (entries.len() == limit)
        .then(|| entries.last().and_then(|e| e["sequence"].as_u64()))
        .flatten();
    Ok(Json(json!({
        "account_id": id,
        "transactions": entries,
        "next_before": next_before,
    })))
}

/// A transfer's status: `pending`, `completed` or `failed` (with `reason`).
#[utoipa::path(get, path = "/transfers/{id}", tag = "views", params(("id" = uuid::Uuid, Path, description = "The transfer's id")),
    responses((status = 200, description = "The transfer", body = TransferView), TransferErrors))]
async fn get_transfer(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<TransferView>, ApiError> {
    let id = TransferId::parse(&id)
        .map(|id| id.to_string())
        .map_err(|_| ApiError::bad_request("invalid_transfer_id", "transfer id must be a UUID"))?;
    match state
        .serving()
        .await?
        .transfer(&id)
        .await
        .map_err(internal)?
    {
        Some(transfer) => Ok(Json(transfer)),
        None => Err(ApiError::not_found(
            "transfer_not_found",
            format!("no transfer {id} in the read model"),
        )),
    }
}

/// Accounts by balance (lowest first) and status: the cross-account query.
#[utoipa::path(get, path = "/accounts", tag = "views", params(QueryParams),
    responses((status = 200, description = "The accounts", body = Accounts), QueryErrors))]
async fn query_accounts(
    State(state): State<ApiState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Accounts>, ApiError> {
    let min_balance = parse_number::<i64>(&params, "min_balance")?.unwrap_or(i64::MIN);
    let limit = parse_limit(&params)?;
    let statuses: &[&str] = match params.get("status").map(String::as_str) {
        None => &["open", "closed"],
        Some("open") => &["open"],
        Some("closed") => &["closed"],
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_status",
                "status must be open or closed",
            ));
        }
    };
    let accounts = state
        .serving()
        .await?
        .query(min_balance, statuses, limit)
        .await
        .map_err(internal)?;
    Ok(Json(Accounts { accounts }))
}

/// The generation of the view being served.
#[utoipa::path(get, path = "/admin/generation", tag = "admin",
    responses((status = 200, description = "The generation", body = Generation), GenerationErrors))]
async fn get_generation(State(state): State<ApiState>) -> Result<Json<Generation>, ApiError> {
    let current = state.store.current_generation().await.map_err(internal)?;
    Ok(Json(Generation { current }))
}

/// Rebuilds the view from offset zero into a fresh generation while the
/// current one keeps serving; switches over once the rebuild has caught up.
/// One at a time: 409 `rebuild_in_progress` while one runs.
#[utoipa::path(post, path = "/admin/rebuild", tag = "admin", responses(
    (status = 202, description = "Rebuilding", body = RebuildStarted), RebuildErrors))]
async fn post_rebuild(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let (from, to) = state
        .projectors
        .start_rebuild()
        .await
        .map_err(|err| match err {
            RebuildError::InProgress => ApiError::new(
                StatusCode::CONFLICT,
                "rebuild_in_progress",
                "a rebuild is already running; try again once it has switched",
            ),
            RebuildError::Store(_) | RebuildError::Projector(_) => ApiError::dependency_failed(
                "rebuild_failed",
                "the rebuild could not be started; retry shortly",
                &err,
            ),
        })?;
    Ok((
        StatusCode::ACCEPTED,
        Json(RebuildStarted {
            status: "rebuilding".to_owned(),
            from,
            generation: to,
        }),
    )
        .into_response())
}
