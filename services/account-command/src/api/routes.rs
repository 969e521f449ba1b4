//! The command API's routes: commands need the `write` scope, reading a
//! command's result `read`. Each route is registered with its OpenAPI
//! description (`routes!`), and its scope documented by the call that
//! guards it. `HttpServer` adds `/healthz`, `/readyz`, `/metrics`,
//! `/openapi.json` and the JSON 404 fallback for unknown paths.

use axum::middleware::from_fn;
use eventbank_runtime::http::{Auth, Scope, json_method_not_allowed, openapi};
use utoipa::openapi::{RefOr, Required};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AppState, accounts, command_lookup, middleware, transfers};

/// The routes with their documentation, before the state is given.
pub fn documented(auth: &Auth) -> OpenApiRouter<AppState> {
    let mut commands = OpenApiRouter::new()
        .routes(routes!(accounts::open))
        .routes(routes!(accounts::deposit))
        .routes(routes!(accounts::withdraw))
        .routes(routes!(accounts::close))
        .routes(routes!(transfers::create));
    optional_close_body(commands.get_openapi_mut());
    let results = OpenApiRouter::new().routes(routes!(command_lookup::get));
    let mut router = auth
        .protect_documented(Scope::Write, commands)
        .merge(auth.protect_documented(Scope::Read, results));
    document_headers(router.get_openapi_mut());
    router
}

const CORRELATION: &str = "X-Correlation-Id";
const CORRELATION_ABOUT: &str = "The request's correlation id (the client's, if it sent a UUID)";

/// The headers the answers carry: every one the correlation id
/// (`middleware::observe`, which the guard's refusals pass too); one whose
/// command got an id (a success, a rejection, a 503) its `Command-Id`
/// (`send_command`, `command_lookup`); a 202 `Location` (the result URL,
/// when no result came in time).
fn document_headers(doc: &mut utoipa::openapi::OpenApi) {
    for (_, _, operation) in openapi::operations_mut(doc) {
        let statuses: Vec<u16> = operation
            .responses
            .responses
            .keys()
            .filter_map(|status| status.parse().ok())
            .collect();
        for status in statuses {
            openapi::add_header(operation, status, CORRELATION, CORRELATION_ABOUT);
            if status < 400 || [409, 422, 503].contains(&status) {
                openapi::add_header(operation, status, "Command-Id", "The command's id");
            }
            if status == 202 {
                openapi::add_header(
                    operation,
                    status,
                    "Location",
                    "`/commands/{command_id}`, when no result came in time",
                );
            }
        }
    }
}

/// `close` takes no body, an empty one or `{}`. utoipa makes a body
/// optional only as an `Option`, which it documents as nullable too (and
/// `null` is refused): the body is `CloseRequest`, marked not required here.
fn optional_close_body(doc: &mut utoipa::openapi::OpenApi) {
    let body = doc
        .paths
        .paths
        .get_mut("/accounts/{id}/close")
        .and_then(|item| item.post.as_mut())
        .and_then(|operation| operation.request_body.as_mut());
    if let Some(RefOr::T(body)) = body {
        body.required = Some(Required::False);
    }
}

pub fn router(state: AppState, auth: &Auth) -> OpenApiRouter {
    let (router, doc) = documented(auth).split_for_parts();
    let router = router
        // axum's own 405 has an empty body; every error here is JSON.
        .method_not_allowed_fallback(json_method_not_allowed)
        .route_layer(from_fn(middleware::observe))
        .with_state(state);
    OpenApiRouter::with_openapi(doc).merge(router.into())
}

#[cfg(test)]
mod document_tests;
#[cfg(test)]
mod tests;
