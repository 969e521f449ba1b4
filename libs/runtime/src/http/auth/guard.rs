//! The middleware in front of guarded routes, and its answers: 401 with
//! `WWW-Authenticate: Bearer realm="eventbank"` (RFC 6750) without a known
//! token, 403 `insufficient_scope` naming the scope needed; both in the JSON
//! error shape every API uses.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::token::{self, Credentials, KnownToken};
use super::{Auth, Scope};
use crate::http::ApiError;

/// The realm every service names in its challenges: one system, one realm.
pub const REALM: &str = "eventbank";

/// Who made the request: the name of the token it carried, added to the
/// request's extensions for handlers that record their caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub String);

/// What one guarded group of routes requires.
#[derive(Debug, Clone)]
pub(super) struct Guard {
    auth: Auth,
    /// `None`: the metrics token.
    scope: Option<Scope>,
}

impl Guard {
    pub fn api(auth: Auth, scope: Scope) -> Self {
        Self {
            auth,
            scope: Some(scope),
        }
    }

    pub fn metrics(auth: Auth) -> Self {
        Self { auth, scope: None }
    }

    /// The decision, apart from HTTP: which token it is, or why not.
    fn decide(&self, header: Option<&HeaderValue>) -> Result<&KnownToken, Denial> {
        let presented = match token::bearer(header) {
            Credentials::Missing => return Err(Denial::Missing),
            Credentials::Malformed => return Err(Denial::Malformed),
            Credentials::Bearer(presented) => presented,
        };
        let Some(scope) = self.scope else {
            return self
                .auth
                .0
                .metrics
                .as_ref()
                .filter(|known| token::find(std::slice::from_ref(*known), presented).is_some())
                .ok_or(Denial::UnknownToken);
        };
        let known = token::find(&self.auth.0.tokens, presented).ok_or(Denial::UnknownToken)?;
        if known.scopes.contains(&scope) {
            Ok(known)
        } else {
            Err(Denial::InsufficientScope(scope))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Denial {
    Missing,
    Malformed,
    UnknownToken,
    InsufficientScope(Scope),
}

impl IntoResponse for Denial {
    fn into_response(self) -> Response {
        let (error, challenge) = match self {
            // RFC 6750 3.1: a request without credentials gets no error code.
            Denial::Missing => (
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "this API needs `Authorization: Bearer <token>`",
                ),
                format!("Bearer realm=\"{REALM}\""),
            ),
            Denial::Malformed => (
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "the Authorization header must be `Bearer <token>`",
                ),
                format!("Bearer realm=\"{REALM}\", error=\"invalid_request\""),
            ),
            Denial::UnknownToken => (
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    "the bearer token is not valid",
                ),
                format!("Bearer realm=\"{REALM}\", error=\"invalid_token\""),
            ),
            Denial::InsufficientScope(scope) => (
                ApiError::new(
                    StatusCode::FORBIDDEN,
                    "insufficient_scope",
                    format!("this request needs a token with the `{scope}` scope"),
                ),
                format!(
                    "Bearer realm=\"{REALM}\", error=\"insufficient_scope\", scope=\"{scope}\""
                ),
            ),
        };
        let mut response = error.into_response();
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// The middleware: passes the request on with its [`Caller`], or answers
/// the denial. Denials are logged at debug with their reason, never with
/// the token.
pub(super) async fn check(
    State(guard): State<Guard>,
    mut request: Request,
    next: Next,
) -> Response {
    match guard.decide(request.headers().get(header::AUTHORIZATION)) {
        Ok(known) => {
            let caller = Caller(known.name.clone());
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(denial) => {
            tracing::debug!(?denial, path = request.uri().path(), "request refused");
            denial.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::auth::{AuthSettings, TokenSettings};
    use crate::secret::Secret;

    const READER: &str = "reader-0123456789abcdef";
    const SCRAPER: &str = "scraper-0123456789abcdef";

    fn auth() -> Auth {
        Auth::from_settings(&AuthSettings {
            tokens: vec![TokenSettings {
                name: "reader".into(),
                token: Secret::new(READER),
                scopes: vec![Scope::Read],
            }],
            metrics_token: Some(Secret::new(SCRAPER)),
            ..AuthSettings::default()
        })
        .unwrap()
    }

    fn bearer(token: &str) -> HeaderValue {
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap()
    }

    #[test]
    fn scopes_decide_which_token_passes_which_guard() {
        let read = Guard::api(auth(), Scope::Read);
        let write = Guard::api(auth(), Scope::Write);
        let metrics = Guard::metrics(auth());
        assert_eq!(read.decide(Some(&bearer(READER))).unwrap().name, "reader");
        assert_eq!(
            write.decide(Some(&bearer(READER))).unwrap_err(),
            Denial::InsufficientScope(Scope::Write)
        );
        assert_eq!(read.decide(None).unwrap_err(), Denial::Missing);
        let basic = HeaderValue::from_static("Basic abc");
        assert_eq!(read.decide(Some(&basic)).unwrap_err(), Denial::Malformed);
        assert_eq!(
            read.decide(Some(&bearer(SCRAPER))).unwrap_err(),
            Denial::UnknownToken,
            "the metrics token opens /metrics only"
        );
        assert!(metrics.decide(Some(&bearer(SCRAPER))).is_ok());
        assert_eq!(
            metrics.decide(Some(&bearer(READER))).unwrap_err(),
            Denial::UnknownToken
        );
    }

    #[tokio::test]
    async fn denials_answer_json_with_an_rfc_6750_challenge() {
        let cases = [
            (
                Denial::Missing,
                401,
                "unauthorized",
                "Bearer realm=\"eventbank\"",
            ),
            (
                Denial::UnknownToken,
                401,
                "invalid_token",
                "Bearer realm=\"eventbank\", error=\"invalid_token\"",
            ),
            (
                Denial::InsufficientScope(Scope::Admin),
                403,
                "insufficient_scope",
                "Bearer realm=\"eventbank\", error=\"insufficient_scope\", scope=\"admin\"",
            ),
        ];
        for (denial, status, code, challenge) in cases {
            let response = denial.into_response();
            assert_eq!(response.status().as_u16(), status, "{denial:?}");
            assert_eq!(response.headers()[header::WWW_AUTHENTICATE], challenge);
            assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
            let body = axum::body::to_bytes(response.into_body(), 4096)
                .await
                .unwrap();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["error"]["code"], code, "{body}");
        }
    }
}
