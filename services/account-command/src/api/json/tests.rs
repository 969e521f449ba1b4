//! Unit tests of the strict JSON bodies: every way a body can be wrong gets its code.

use axum::body::Body;
use axum::http::HeaderValue;
use eventbank_events::{Amount, Currency};

use super::*;
use crate::api::accounts::OpenAccountBody;

/// Parsed as `POST /accounts` parses its body.
fn open(json: &str) -> Result<OpenAccountBody, ApiError> {
    OpenAccountBody::from_fields(&mut Fields::parse(
        json.as_bytes(),
        OpenAccountBody::FIELDS,
    )?)
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
