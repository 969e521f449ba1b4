//! Arbitrary request bodies (and content types) for every command endpoint.
//! The parser must never panic, every refusal must be a 4xx with a code, and
//! nothing may pass that was not sent as JSON within the size limit.
#![no_main]

use account_command::api::body_parser::{BodyKind, parse};
use libfuzzer_sys::fuzz_target;

/// The API's default `api.max_body_bytes`.
const LIMIT: usize = 16 * 1024;

const CONTENT_TYPES: [Option<&[u8]>; 6] = [
    Some(b"application/json"),
    Some(b"application/json; charset=utf-8"),
    Some(b"application/problem+json"),
    Some(b"text/plain"),
    Some(b"json"),
    None,
];

fuzz_target!(|input: &[u8]| {
    // First byte: endpoint and content type; the rest is the body.
    let Some((&selector, body)) = input.split_first() else {
        return;
    };
    let kind = BodyKind::ALL[usize::from(selector) % BodyKind::ALL.len()];
    let content_type = CONTENT_TYPES[usize::from(selector >> 2) % CONTENT_TYPES.len()];
    match parse(kind, content_type, body, LIMIT) {
        Ok(()) => {
            assert!(body.len() <= LIMIT, "{kind:?}: an oversize body passed");
            let blank = body.iter().all(u8::is_ascii_whitespace);
            let json =
                content_type.is_some_and(|t| t.windows(4).any(|w| w == b"json") && t != b"json");
            assert!(
                json || (kind == BodyKind::Empty && blank),
                "{kind:?}: a body sent as {:?} passed",
                content_type.map(String::from_utf8_lossy)
            );
        }
        Err(err) => {
            assert!(err.status.is_client_error(), "{kind:?}: {err}");
            assert!(
                !err.code.is_empty() && !err.message.is_empty(),
                "{kind:?}: {err}"
            );
        }
    }
});
