//! The command API's routes: commands need the `write` scope, reading a
//! command's result `read`. `HttpServer` adds `/healthz`, `/readyz`,
//! `/metrics` and the JSON 404 fallback for unknown paths.

use axum::Router;
use axum::middleware::from_fn;
use axum::routing::{get, post};
use eventbank_runtime::http::{Auth, Scope, json_method_not_allowed};

use super::{AppState, accounts, command_lookup, middleware, transfers};

pub fn router(state: AppState, auth: &Auth) -> Router {
    let commands = Router::new()
        .route("/accounts", post(accounts::open))
        .route("/accounts/{id}/deposits", post(accounts::deposit))
        .route("/accounts/{id}/withdrawals", post(accounts::withdraw))
        .route("/accounts/{id}/close", post(accounts::close))
        .route("/transfers", post(transfers::create));
    let results = Router::new().route("/commands/{command_id}", get(command_lookup::get));
    auth.protect(Scope::Write, commands)
        .merge(auth.protect(Scope::Read, results))
        // axum's own 405 has an empty body; every error here is JSON.
        .method_not_allowed_fallback(json_method_not_allowed)
        .route_layer(from_fn(middleware::observe))
        .with_state(state)
}

#[cfg(test)]
mod tests;
