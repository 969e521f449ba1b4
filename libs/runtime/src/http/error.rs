//! The one JSON error shape every HTTP answer uses, `{"error":{"code","message"}}`,
//! including axum's own 404 and 405, so clients parse one shape.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error_chain::Chain;

/// Every HTTP error this system returns: `{"error":{"code":"...","message":"..."}}`
/// with a status that tells the client what to do (fix the request, retry, give up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn bad_request(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn unavailable(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// A store or broker behind the API failed: the client gets `code` and
    /// `message`, which must say what to do (retry), never what broke inside
    /// (hosts, schema names, driver errors); the log gets the whole chain.
    pub fn dependency_failed(
        code: impl Into<String>,
        message: impl Into<String>,
        cause: &(dyn std::error::Error + 'static),
    ) -> Self {
        let error = Self::unavailable(code, message);
        tracing::warn!(code = %error.code, error = %Chain(cause), "request failed");
        error
    }

    /// A bug: the client gets a generic 500, the log the chain.
    pub fn internal_because(cause: &(dyn std::error::Error + 'static)) -> Self {
        tracing::error!(error = %Chain(cause), "request failed unexpectedly");
        Self::internal("internal error; the service's log has the details")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Inner {
                code: &self.code,
                message: &self.message,
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of an oversize body is left unread, so hyper closes
            // the connection after this answer. Saying so keeps a client from
            // putting the connection back in its pool and sending its next
            // request into a socket that is about to close.
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        response
    }
}

/// Method fallback: a known path asked with a method it does not take
/// answers in the JSON shape too (axum's own 405 has an empty body).
pub async fn json_method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not supported on {}", uri.path()),
    )
}

/// Router fallback: unknown paths answer in the same JSON shape as every other error.
pub async fn json_fallback(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found("route_not_found", format!("no route for {}", uri.path()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;

    #[test]
    fn only_a_413_closes_the_connection() {
        let too_large = ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "big")
            .into_response();
        assert_eq!(too_large.headers()[header::CONNECTION], "close");
        let bad = ApiError::bad_request("invalid_json", "no").into_response();
        assert!(bad.headers().get(header::CONNECTION).is_none());
        assert_eq!(bad.headers()[header::CONTENT_TYPE], "application/json");
    }
}
