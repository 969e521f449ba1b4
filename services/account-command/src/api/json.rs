//! Strict JSON request bodies, with an error code for every way one can be wrong.
//!
//! In the order they are checked:
//!
//! | problem                                        | status | code                     |
//! |------------------------------------------------|--------|--------------------------|
//! | body longer than `api.max_body_bytes`          | 413    | `payload_too_large`      |
//! | `Content-Type` missing or not JSON             | 415    | `unsupported_media_type` |
//! | body unreadable (client went away mid-body)    | 400    | `invalid_body`           |
//! | not JSON, trailing data, empty, not an object  | 400    | `invalid_json`           |
//! | the same field twice                           | 400    | `duplicate_field`        |
//! | a field the endpoint does not know             | 400    | `unknown_field`          |
//! | a required field absent                        | 400    | `missing_<field>`        |
//! | a field `null`, of the wrong type or invalid   | 400    | the field's code, e.g. `invalid_amount` |
//!
//! A missing `Content-Type` is refused like a wrong one (as axum's own `Json`
//! does): a client that does not say it sends JSON is more likely sending a
//! form by accident than JSON. JSON means `application/json` or any
//! `application/*+json`, parameters (`charset=utf-8`) allowed.
//!
//! The body is read here, not by axum's `Bytes` extractor, so the size limit's
//! error has this shape too. It is read even when the content type is wrong:
//! a body left unread makes the server close the connection, and a client
//! that reused it would see its next request fail without an answer. Fields are checked one by one (rather than by a
//! derived `Deserialize`) so every error names its field and gets its own code
//! without parsing serde's messages.

mod fields;

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use eventbank_runtime::http::ApiError;
use futures::StreamExt;

pub use fields::{Fields, excerpt};

/// The largest request body accepted, from `api.max_body_bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimit(pub usize);

/// A request body type: its fields and how to build it from them.
pub trait JsonBody: Sized {
    /// Every field the body may have.
    const FIELDS: &'static [&'static str];

    fn from_fields(fields: &mut Fields) -> Result<Self, ApiError>;
}

/// Extracts a [`JsonBody`], answering every problem with the JSON error shape.
#[derive(Debug, Clone)]
pub struct StrictJson<T>(pub T);

impl<S, T> FromRequest<S> for StrictJson<T>
where
    S: Send + Sync,
    BodyLimit: FromRef<S>,
    T: JsonBody,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let limit = BodyLimit::from_ref(state);
        if let Err(err) = require_json_content_type(request.headers()) {
            // Read (and drop) what was sent, so the connection stays usable
            // for the client's next request; an oversize body is a 413.
            read_body(request, limit).await?;
            return Err(err);
        }
        let bytes = read_body(request, limit).await?;
        let mut fields = Fields::parse(&bytes, T::FIELDS)?;
        T::from_fields(&mut fields).map(Self)
    }
}

/// A body that must be absent: empty (any or no content type), or `{}` sent as
/// JSON — some client libraries always send an object.
#[derive(Debug, Clone, Copy)]
pub struct EmptyBody;

impl<S> FromRequest<S> for EmptyBody
where
    S: Send + Sync,
    BodyLimit: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let limit = BodyLimit::from_ref(state);
        let json = require_json_content_type(request.headers());
        let bytes = read_body(request, limit).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self);
        }
        json?;
        Fields::parse(&bytes, &[])?;
        Ok(Self)
    }
}

fn require_json_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let unsupported = |found: &str| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("expected Content-Type: application/json, found {found}"),
        )
    };
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err(unsupported("no Content-Type"));
    };
    let text = value.to_str().unwrap_or_default();
    let essence = text.split(';').next().unwrap_or_default().trim();
    let is_json = essence.split_once('/').is_some_and(|(kind, subtype)| {
        kind.eq_ignore_ascii_case("application")
            && (subtype.eq_ignore_ascii_case("json")
                || subtype.to_ascii_lowercase().ends_with("+json"))
    });
    if is_json {
        Ok(())
    } else {
        Err(unsupported(&format!("{:?}", excerpt(text, 64))))
    }
}

fn too_large(limit: BodyLimit) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the request body exceeds {} bytes", limit.0),
    )
}

/// Reads the whole body, refusing more than `limit` bytes before buffering them.
pub async fn read_body(request: Request, limit: BodyLimit) -> Result<Bytes, ApiError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit.0 as u64) {
        return Err(too_large(limit));
    }
    let mut stream = request.into_body().into_data_stream();
    let mut buffer = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|err| {
            ApiError::bad_request(
                "invalid_body",
                format!("could not read the request body: {err}"),
            )
        })?;
        if buffer.len().saturating_add(chunk.len()) > limit.0 {
            return Err(too_large(limit));
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buffer))
}

/// Reads a body from a finished `Body` (for tests and callers without a request).
#[cfg(test)]
pub async fn read(body: axum::body::Body, limit: BodyLimit) -> Result<Bytes, ApiError> {
    read_body(Request::new(body), limit).await
}

#[cfg(test)]
mod tests;
