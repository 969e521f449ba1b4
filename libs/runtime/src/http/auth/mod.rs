//! Bearer-token authentication and scope authorization for every service's
//! HTTP API (DESIGN.md, "HTTP APIs").
//!
//! Tokens come from settings (`auth.tokens`, e.g. the `EVENTBANK_AUTH__TOKENS`
//! environment variable) and/or a file (`auth.tokens_file`, where a mounted
//! Kubernetes Secret lands). Each has a name and scopes; a service puts each
//! group of routes behind the scope it needs with [`Auth::protect`]. The ops
//! endpoints stay open, except `/metrics` when `auth.metrics_token` is set.
//! Auth is on by default: a service with it on and no token refuses to start.

mod guard;
mod settings;
mod token;

use std::sync::Arc;

use axum::Router;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;

pub use guard::Caller;
pub use settings::{AuthSettings, TokenSettings, TokensFile};

use token::KnownToken;

/// What a token may do. Scopes do not imply one another: a token for
/// everything lists all four.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Commands (account-command's POSTs).
    Write,
    /// Views and command results.
    Read,
    /// The audit API.
    Audit,
    /// Rebuilds and generation switches.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::Write, Scope::Read, Scope::Audit, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Write => "write",
            Scope::Read => "read",
            Scope::Audit => "audit",
            Scope::Admin => "admin",
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the configured tokens cannot be used; the service does not start.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(
        "auth is enabled but no token is configured: set auth.tokens \
         (EVENTBANK_AUTH__TOKENS) or auth.tokens_file (EVENTBANK_AUTH__TOKENS_FILE), \
         or set auth.enabled=false to serve the API to anyone"
    )]
    NoTokens,
    #[error("auth.tokens_file {path}: {reason}")]
    File { path: String, reason: String },
    #[error("auth token {name:?}: {reason}")]
    Invalid { name: String, reason: String },
}

/// The tokens a service accepts, built once at startup and shared by every
/// guarded route.
#[derive(Debug, Clone)]
pub struct Auth(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    enabled: bool,
    tokens: Vec<KnownToken>,
    metrics: Option<KnownToken>,
}

impl Auth {
    /// Reads the inline tokens and the tokens file; fails when auth is on
    /// and there is no token, or a token is unusable.
    pub fn from_settings(settings: &AuthSettings) -> Result<Self, AuthError> {
        let mut configured = settings.tokens.clone();
        if let Some(path) = &settings.tokens_file {
            configured.extend(settings::read_tokens_file(path)?.tokens);
        }
        for token in &configured {
            token.check()?;
        }
        if settings.enabled && configured.is_empty() {
            return Err(AuthError::NoTokens);
        }
        let tokens = configured
            .iter()
            .map(|t| KnownToken::new(&t.name, t.token.expose(), t.scopes.clone()))
            .collect();
        let metrics = settings
            .metrics_token
            .as_ref()
            .filter(|token| !token.expose().is_empty())
            .map(|token| KnownToken::new("metrics", token.expose(), Vec::new()));
        Ok(Self(Arc::new(Inner {
            enabled: settings.enabled,
            tokens,
            metrics,
        })))
    }

    /// Accepts every request (unit tests of routers, `auth.enabled=false`).
    pub fn disabled() -> Self {
        Self(Arc::new(Inner {
            enabled: false,
            tokens: Vec::new(),
            metrics: None,
        }))
    }

    pub fn enabled(&self) -> bool {
        self.0.enabled
    }

    /// `router`'s routes answer only requests whose bearer token has
    /// `scope`: 401 without a known token, 403 with one lacking the scope.
    /// Unknown paths are not affected (they answer 404 either way).
    pub fn protect<S>(&self, scope: Scope, router: Router<S>) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        if !self.enabled() {
            return router;
        }
        router.route_layer(axum::middleware::from_fn_with_state(
            guard::Guard::api(self.clone(), scope),
            guard::check,
        ))
    }

    /// [`protect`](Self::protect) for documented routes: also marks each
    /// of their operations as needing `scope` in the OpenAPI document, with
    /// the guard's 401 and 403 answers. The document says so even with auth
    /// off: it describes the contract, not a development setting.
    pub fn protect_documented<S>(&self, scope: Scope, router: OpenApiRouter<S>) -> OpenApiRouter<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let (router, mut doc) = router.split_for_parts();
        crate::http::openapi::require_scope(&mut doc, scope);
        OpenApiRouter::with_openapi(doc).merge(self.protect(scope, router).into())
    }

    /// The `/metrics` route: open unless `auth.metrics_token` is set, then
    /// only for that token (what a Prometheus scrape config carries).
    pub fn protect_metrics<S>(&self, router: Router<S>) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        if !self.enabled() || self.0.metrics.is_none() {
            return router;
        }
        router.route_layer(axum::middleware::from_fn_with_state(
            guard::Guard::metrics(self.clone()),
            guard::check,
        ))
    }
}

#[cfg(test)]
mod served;
