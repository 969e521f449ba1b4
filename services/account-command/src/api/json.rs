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

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use eventbank_runtime::http::ApiError;
use futures::StreamExt;
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

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

/// The top-level fields of a body that passed the syntax and field-name checks.
#[derive(Debug)]
pub struct Fields {
    entries: Map<String, Value>,
}

impl Fields {
    /// Parses `bytes` as one JSON object whose keys are all in `allowed`.
    pub fn parse(bytes: &[u8], allowed: &[&str]) -> Result<Self, ApiError> {
        let entries = match serde_json::from_slice::<Object>(bytes) {
            Ok(Object::Unique(entries)) => entries,
            Ok(Object::Duplicate(field)) => {
                return Err(ApiError::bad_request(
                    "duplicate_field",
                    format!("field `{}` appears more than once", excerpt(&field, 64)),
                ));
            }
            Err(err) if bytes.iter().all(u8::is_ascii_whitespace) => {
                return Err(ApiError::bad_request(
                    "invalid_json",
                    format!("the request body is empty; expected a JSON object ({err})"),
                ));
            }
            Err(err) => {
                return Err(ApiError::bad_request(
                    "invalid_json",
                    format!("the request body is not a JSON object: {err}"),
                ));
            }
        };
        let unknown: Vec<String> = entries
            .keys()
            .filter(|key| !allowed.contains(&key.as_str()))
            .map(|key| format!("`{}`", excerpt(key, 64)))
            .collect();
        if !unknown.is_empty() {
            let expected = if allowed.is_empty() {
                "this endpoint takes no fields".to_owned()
            } else {
                let names: Vec<String> = allowed.iter().map(|name| format!("`{name}`")).collect();
                format!("expected {}", names.join(", "))
            };
            let noun = if unknown.len() == 1 {
                "unknown field"
            } else {
                "unknown fields"
            };
            return Err(ApiError::bad_request(
                "unknown_field",
                format!("{noun} {}; {expected}", unknown.join(", ")),
            ));
        }
        Ok(Self { entries })
    }

    /// Takes the required field `name`: absent → `missing_<name>`; `null`, the
    /// wrong type or an invalid value → `invalid_code`, with the reason.
    pub fn required<T: DeserializeOwned>(
        &mut self,
        name: &str,
        invalid_code: &str,
    ) -> Result<T, ApiError> {
        match self.entries.remove(name) {
            None => Err(ApiError::bad_request(
                format!("missing_{name}"),
                format!("field `{name}` is required"),
            )),
            Some(Value::Null) => Err(ApiError::bad_request(
                invalid_code,
                format!("field `{name}` must not be null"),
            )),
            Some(value) => serde_json::from_value(value).map_err(|err| {
                ApiError::bad_request(invalid_code, format!("field `{name}`: {err}"))
            }),
        }
    }
}

/// A JSON object read with duplicate keys detected (serde_json's `Map` keeps
/// the last silently). A duplicate is reported in-band rather than as a serde
/// error, so it gets its own code without matching on error text.
enum Object {
    Unique(Map<String, Value>),
    Duplicate(String),
}

impl<'de> Deserialize<'de> for Object {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;

        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = Object;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Object, A::Error> {
                let mut entries = Map::new();
                let mut duplicate = None;
                while let Some(key) = map.next_key::<String>()? {
                    if entries.contains_key(&key) {
                        map.next_value::<IgnoredAny>()?;
                        duplicate.get_or_insert(key);
                    } else {
                        let value = map.next_value::<Value>()?;
                        entries.insert(key, value);
                    }
                }
                Ok(match duplicate {
                    Some(key) => Object::Duplicate(key),
                    None => Object::Unique(entries),
                })
            }
        }

        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// At most `max_chars` characters of user input, for error messages.
pub fn excerpt(input: &str, max_chars: usize) -> String {
    match input.char_indices().nth(max_chars) {
        None => input.to_owned(),
        Some((cut, _)) => format!("{}…", &input[..cut]),
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::HeaderValue;
    use eventbank_events::{Amount, Currency, Holder};

    use super::*;

    #[derive(Debug)]
    struct Open {
        holder: Holder,
        currency: Currency,
    }

    impl JsonBody for Open {
        const FIELDS: &'static [&'static str] = &["holder", "currency"];

        fn from_fields(fields: &mut Fields) -> Result<Self, ApiError> {
            Ok(Self {
                holder: fields.required("holder", "invalid_holder")?,
                currency: fields.required("currency", "invalid_currency")?,
            })
        }
    }

    fn open(json: &str) -> Result<Open, ApiError> {
        Open::from_fields(&mut Fields::parse(json.as_bytes(), Open::FIELDS)?)
    }

    fn amount(json: &str) -> Result<Amount, ApiError> {
        Fields::parse(json.as_bytes(), &["amount"])?.required("amount", "invalid_amount")
    }

    fn code<T: std::fmt::Debug>(result: Result<T, ApiError>) -> String {
        let err = result.unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST, "{err}");
        err.code
    }

    #[test]
    fn accepts_a_valid_body() {
        let body = open(r#"{"holder":" Ann ","currency":"EUR"}"#).unwrap();
        assert_eq!(body.holder.as_str(), "Ann");
        assert_eq!(body.currency, Currency::EUR);
        assert_eq!(amount(r#"{"amount":500}"#).unwrap().minor_units(), 500);
    }

    #[test]
    fn syntax_errors_and_non_objects_are_invalid_json() {
        for json in [
            "",
            "  ",
            "{",
            "{\"amount\":1",
            "[1]",
            "\"x\"",
            "null",
            "{} {}",
            "{\"amount\":1,}",
        ] {
            assert_eq!(code(amount(json)), "invalid_json", "{json:?}");
        }
    }

    #[test]
    fn unknown_fields_are_named() {
        let err = open(r#"{"holder":"Ann","currency":"EUR","colour":"red"}"#).unwrap_err();
        assert_eq!(err.code, "unknown_field");
        assert!(err.message.contains("`colour`"), "{}", err.message);
        assert!(
            err.message.contains("`holder`, `currency`"),
            "{}",
            err.message
        );
        // Unknown wins over missing: the typo is the real problem.
        let err = open(r#"{"holdr":"Ann","currency":"EUR"}"#).unwrap_err();
        assert_eq!(err.code, "unknown_field");
    }

    #[test]
    fn duplicates_are_refused() {
        let err = amount(r#"{"amount":1,"amount":2}"#).unwrap_err();
        assert_eq!(err.code, "duplicate_field");
        assert!(err.message.contains("`amount`"), "{}", err.message);
    }

    #[test]
    fn missing_fields_have_their_own_code() {
        assert_eq!(code(open(r#"{"currency":"EUR"}"#)), "missing_holder");
        assert_eq!(code(open(r#"{"holder":"Ann"}"#)), "missing_currency");
        assert_eq!(code(amount("{}")), "missing_amount");
    }

    #[test]
    fn bad_values_name_the_field() {
        for json in [
            r#"{"amount":0}"#,
            r#"{"amount":-5}"#,
            r#"{"amount":10.5}"#,
            r#"{"amount":1e3}"#,
            r#"{"amount":"500"}"#,
            r#"{"amount":null}"#,
            r#"{"amount":99999999999999999999}"#,
            r#"{"amount":[1]}"#,
        ] {
            let err = amount(json).unwrap_err();
            assert_eq!(err.code, "invalid_amount", "{json}");
            assert!(err.message.contains("`amount`"), "{json}: {}", err.message);
        }
        assert_eq!(
            code(open(r#"{"holder":"","currency":"EUR"}"#)),
            "invalid_holder"
        );
        assert_eq!(
            code(open(r#"{"holder":42,"currency":"EUR"}"#)),
            "invalid_holder"
        );
        assert_eq!(
            code(open(r#"{"holder":"Ann","currency":"eur"}"#)),
            "invalid_currency"
        );
        assert_eq!(
            code(open(r#"{"holder":"Ann","currency":"EURO"}"#)),
            "invalid_currency"
        );
    }

    #[test]
    fn content_type_must_be_json() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(value));
            require_json_content_type(&headers)
        };
        assert!(with("application/json").is_ok());
        assert!(with("Application/JSON; charset=utf-8").is_ok());
        assert!(with("application/merge-patch+json").is_ok());
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "json",
            "",
        ] {
            let err = with(bad).unwrap_err();
            assert_eq!(err.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{bad}");
            assert_eq!(err.code, "unsupported_media_type");
        }
        let err = require_json_content_type(&HeaderMap::new()).unwrap_err();
        assert_eq!(err.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    #[tokio::test]
    async fn bodies_above_the_limit_are_413() {
        let limit = BodyLimit(8);
        assert_eq!(read(Body::from("12345678"), limit).await.unwrap().len(), 8);
        let err = read(Body::from("123456789"), limit).await.unwrap_err();
        assert_eq!(err.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(err.code, "payload_too_large");
        // A streamed body (no Content-Length) is cut off while reading.
        let chunks = futures::stream::iter(["1234", "5678", "9"].map(Ok::<_, std::io::Error>));
        let err = read(Body::from_stream(chunks), limit).await.unwrap_err();
        assert_eq!(err.code, "payload_too_large");
    }

    #[test]
    fn excerpts_are_bounded() {
        assert_eq!(excerpt("abc", 5), "abc");
        assert_eq!(excerpt("äöüß", 2), "äö…");
    }
}
