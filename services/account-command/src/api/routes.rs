//! The command API's routes. `HttpServer` adds `/healthz`, `/readyz`,
//! `/metrics` and the JSON 404 fallback for unknown paths.

use axum::Router;
use axum::middleware::from_fn;
use axum::routing::{get, post};
use eventbank_runtime::http::json_method_not_allowed;

use super::{AppState, accounts, command_lookup, middleware, transfers};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/accounts", post(accounts::open))
        .route("/accounts/{id}/deposits", post(accounts::deposit))
        .route("/accounts/{id}/withdrawals", post(accounts::withdraw))
        .route("/accounts/{id}/close", post(accounts::close))
        .route("/transfers", post(transfers::create))
        .route("/commands/{command_id}", get(command_lookup::get))
        // axum's own 405 has an empty body; every error here is JSON.
        .method_not_allowed_fallback(json_method_not_allowed)
        .route_layer(from_fn(middleware::observe))
        .with_state(state)
}

#[cfg(test)]
mod tests;
