//! The OpenAPI 3.1 document each service serves at `GET /openapi.json`
//! (DESIGN.md, "HTTP APIs"), generated from the handlers: each handler's
//! `#[utoipa::path]` describes it, and utoipa-axum's `routes!` registers a
//! route together with that description, so no route is served without
//! being documented. This module adds what every service shares: the error
//! shape with its codes ([`api_errors!`](crate::api_errors)), the bearer
//! scheme and the scope each operation needs (set by
//! [`Auth::protect_documented`](crate::http::Auth::protect_documented), the
//! same call that installs the guard), and the ops endpoints.

mod errors;

use std::collections::BTreeSet;

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi};

pub use errors::{add_errors, add_header, error_responses};
/// What [`HttpServer::serve`](crate::http::HttpServer::serve) takes: routes
/// with their documentation.
pub use utoipa_axum::router::OpenApiRouter;

use super::Scope;

/// The name of the security scheme in every document.
pub const SECURITY_SCHEME: &str = "bearer";

/// The codes of a guard's refusals (see `http::auth::guard`).
const UNAUTHORIZED: &[&str] = &["invalid_token", "unauthorized"];
const FORBIDDEN: &[&str] = &["insufficient_scope"];

/// Every operation of `doc` with its method (upper case) and path.
pub fn operations_mut(doc: &mut OpenApi) -> Vec<(String, String, &mut Operation)> {
    let mut found = Vec::new();
    for (path, item) in &mut doc.paths.paths {
        let methods = [
            ("GET", &mut item.get),
            ("PUT", &mut item.put),
            ("POST", &mut item.post),
            ("DELETE", &mut item.delete),
            ("OPTIONS", &mut item.options),
            ("HEAD", &mut item.head),
            ("PATCH", &mut item.patch),
            ("TRACE", &mut item.trace),
        ];
        for (method, operation) in methods {
            if let Some(operation) = operation.as_mut() {
                found.push((method.to_owned(), path.clone(), operation));
            }
        }
    }
    found
}

/// `"GET /accounts/{id}"` for every operation of `doc`, sorted: what the
/// services' tests compare with what their routers serve.
pub fn operations(doc: &OpenApi) -> BTreeSet<String> {
    let mut doc = doc.clone();
    operations_mut(&mut doc)
        .into_iter()
        .map(|(method, path, _)| format!("{method} {path}"))
        .collect()
}

/// Marks every operation of `doc` as needing a bearer token with `scope`,
/// with the guard's 401 and 403 answers.
pub(crate) fn require_scope(doc: &mut OpenApi, scope: Scope) {
    for (_, _, operation) in operations_mut(doc) {
        operation.security = Some(vec![SecurityRequirement::new(
            SECURITY_SCHEME,
            [scope.as_str()],
        )]);
        add_errors(operation, 401, UNAUTHORIZED);
        add_errors(operation, 403, FORBIDDEN);
        for status in [401, 403] {
            add_header(
                operation,
                status,
                "WWW-Authenticate",
                "The RFC 6750 challenge: `Bearer realm=\"eventbank\"`, with `error` and `scope`",
            );
        }
    }
}

/// The bearer scheme, its scopes described (OpenAPI 3.1 lets a non-OAuth
/// scheme's requirement list roles: here, the scopes).
fn bearer_scheme() -> SecurityScheme {
    let scopes: Vec<String> = Scope::ALL
        .iter()
        .map(|scope| format!("`{scope}`: {}", scope_purpose(*scope)))
        .collect();
    SecurityScheme::Http(
        HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(format!(
                "`Authorization: Bearer <token>`. A token carries scopes; an operation \
                 lists the one it needs. Scopes do not imply one another. {}. Without a \
                 known token: 401; with one lacking the scope: 403.",
                scopes.join("; ")
            )))
            .build(),
    )
}

fn scope_purpose(scope: Scope) -> &'static str {
    match scope {
        Scope::Write => "commands (account-command's POSTs)",
        Scope::Read => "views and command results",
        Scope::Audit => "the audit API",
        Scope::Admin => "rebuilds and generation switches",
    }
}

/// The whole document of `service`: its `api` operations, the ops
/// endpoints, the bearer scheme; titled after the service, versioned with
/// its crate.
pub fn document(service: &str, version: &str, api: OpenApi) -> OpenApi {
    let mut doc = api;
    doc.merge(super::ops::documented().into_openapi());
    doc.info = InfoBuilder::new()
        .title(format!("eventbank {service}"))
        .version(version)
        .description(Some(
            "Bodies are JSON, amounts integers in minor units. Every error is \
             `{\"error\":{\"code\",\"message\"}}`; each response lists its codes. \
             `/healthz`, `/readyz`, `/topics` and `/openapi.json` need no token; \
             `/metrics` none unless the service has a metrics token.",
        ))
        .build();
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(SECURITY_SCHEME, bearer_scheme());
    doc
}

#[cfg(test)]
mod tests;
