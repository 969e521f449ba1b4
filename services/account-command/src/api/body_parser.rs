//! The request-body parser on its own: what every command handler's body
//! goes through before anything can reach Kafka, callable without a server
//! or a broker. The fuzz target `http_body` (`fuzz/`) drives it with
//! arbitrary bytes; the handlers use the same extractors through axum.

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, header};
use eventbank_runtime::http::ApiError;

use super::accounts::{AmountBody, OpenAccountBody};
use super::json::{BodyLimit, EmptyBody, StrictJson};
use super::transfers::TransferBody;

/// Which endpoint's body to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `POST /accounts`
    OpenAccount,
    /// deposits and withdrawals
    Amount,
    /// `POST /transfers`
    Transfer,
    /// `POST /accounts/{id}/close`
    Empty,
}

impl BodyKind {
    pub const ALL: [Self; 4] = [Self::OpenAccount, Self::Amount, Self::Transfer, Self::Empty];
}

/// Parses `bytes` as the body of `kind`, sent with `content_type` (raw
/// header bytes; a value HTTP cannot carry is left out, as a server never
/// sees one), exactly as the handler's extractor does. `Ok` means the
/// handler would go on to build a command.
pub fn parse(
    kind: BodyKind,
    content_type: Option<&[u8]>,
    bytes: &[u8],
    limit: usize,
) -> Result<(), ApiError> {
    let mut request = Request::new(Body::from(bytes.to_vec()));
    let headers = request.headers_mut();
    if let Some(value) = content_type.and_then(|raw| HeaderValue::from_bytes(raw).ok()) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    let limit = BodyLimit(limit);
    // A body already in memory: every future here is ready at its first poll.
    futures::executor::block_on(async move {
        match kind {
            BodyKind::OpenAccount => StrictJson::<OpenAccountBody>::from_request(request, &limit)
                .await
                .map(drop),
            BodyKind::Amount => StrictJson::<AmountBody>::from_request(request, &limit)
                .await
                .map(drop),
            BodyKind::Transfer => StrictJson::<TransferBody>::from_request(request, &limit)
                .await
                .map(drop),
            BodyKind::Empty => EmptyBody::from_request(request, &limit).await.map(drop),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: Option<&[u8]> = Some(b"application/json");

    /// Endpoint, content type, body, the error code expected.
    type Broken<'a> = (BodyKind, Option<&'a [u8]>, &'a [u8], &'a str);

    #[test]
    fn valid_bodies_parse_and_broken_ones_are_4xx_with_a_code() {
        let account = uuid::Uuid::new_v4();
        let other = uuid::Uuid::new_v4();
        let transfer = format!(r#"{{"from":"{account}","to":"{other}","amount":5}}"#);
        let valid: [(BodyKind, &[u8]); 4] = [
            (
                BodyKind::OpenAccount,
                br#"{"holder":"Ann","currency":"EUR"}"#,
            ),
            (BodyKind::Amount, br#"{"amount":500}"#),
            (BodyKind::Transfer, transfer.as_bytes()),
            (BodyKind::Empty, b""),
        ];
        for (kind, body) in valid {
            assert_eq!(parse(kind, JSON, body, 1024), Ok(()), "{kind:?}");
        }
        let broken: [Broken<'_>; 5] = [
            (
                BodyKind::Amount,
                JSON,
                br#"{"amount":1.5}"#,
                "invalid_amount",
            ),
            (
                BodyKind::Amount,
                Some(b"text/plain"),
                br#"{"amount":5}"#,
                "unsupported_media_type",
            ),
            (BodyKind::OpenAccount, JSON, b"\xff", "invalid_json"),
            (BodyKind::Transfer, JSON, br#"{"amount":5}"#, "missing_from"),
            (BodyKind::Amount, JSON, &[b' '; 2048], "payload_too_large"),
        ];
        for (kind, content_type, body, code) in broken {
            let err = parse(kind, content_type, body, 1024).unwrap_err();
            assert!(err.status.is_client_error(), "{kind:?}: {err}");
            assert_eq!(err.code, code, "{kind:?}: {err}");
        }
    }
}
