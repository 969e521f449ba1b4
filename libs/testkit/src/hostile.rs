//! Generated hostile HTTP requests and the one answer every API must give
//! them: a 4xx JSON error with a code. Each service's test builds requests
//! that are wrong by construction for its own routes; sending, judging and
//! running the cases is shared.

use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::Method;
use serde_json::Value;

/// Generated requests per API and run.
pub const CASES: u32 = 10_000;

/// One request, wrong in at least one way.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub path: String,
    pub content_type: Option<String>,
    pub idempotency_key: Option<Vec<u8>>,
    pub body: Vec<u8>,
}

impl Request {
    /// A GET of `path` (already encoded).
    pub fn get(path: String) -> Self {
        Self {
            method: Method::GET,
            path,
            content_type: None,
            idempotency_key: None,
            body: Vec::new(),
        }
    }

    /// A `method` of `path` (already encoded) with a JSON `body`.
    pub fn json(method: Method, path: String, body: Vec<u8>) -> Self {
        Self {
            method,
            path,
            content_type: Some("application/json".to_owned()),
            idempotency_key: None,
            body,
        }
    }
}

/// Strings that are not UUIDs, path traversal among them (no hex-only form
/// can come out of the first pattern).
pub fn bad_id() -> impl Strategy<Value = String> {
    prop_oneof![
        "[g-zG-Z._~!$&'()*+,;=:@-]{1,60}",
        "\\PC{1,30}".prop_filter("not a UUID", |s: &String| uuid::Uuid::parse_str(s).is_err()),
        Just("..".to_owned()),
        Just("../../../etc/passwd".to_owned()),
        Just("%2e%2e%2f%2e%2e%2fetc%2fpasswd".to_owned()),
        Just("00000000-0000-0000-0000-00000000000g".to_owned()),
        Just(format!("{}0", uuid::Uuid::new_v4())),
    ]
}

/// Query values no numeric parameter accepts.
pub fn bad_number() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z]{1,10}",
        (1.0f64..1e30).prop_map(|f| format!("{f:.3}")),
        Just("1e3".to_owned()),
        Just(String::new()),
        Just("99999999999999999999999999".to_owned()),
        Just("0x10".to_owned()),
        "\\PC{1,10}".prop_filter("not a number", |s: &String| s.parse::<f64>().is_err()),
    ]
}

/// Methods other than `allowed`, for the 405 path.
pub fn other_method(allowed: Method) -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::GET),
        Just(Method::POST),
        Just(Method::PUT),
        Just(Method::DELETE),
        Just(Method::PATCH),
    ]
    .prop_filter("not the route's own method", move |m| *m != allowed)
}

/// Paths under none of `prefixes` (nor the ops endpoints): 404s.
pub fn unknown_path(prefixes: &'static [&'static str]) -> impl Strategy<Value = String> {
    "(/[a-zA-Z0-9._~-]{1,20}){1,5}".prop_filter("not a route", move |path: &String| {
        !(prefixes.iter().any(|prefix| path.starts_with(prefix))
            || ["/healthz", "/readyz", "/metrics", "/topics"].contains(&path.as_str()))
    })
}

/// Percent-encodes everything but unreserved characters, so a value
/// arrives as one path segment or query value.
pub fn encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Sends `request` and checks the answer: 4xx, JSON, `{"error":{"code":…}}`.
pub async fn expect_json_4xx(
    client: &reqwest::Client,
    base: &str,
    request: &Request,
) -> Result<(), String> {
    let mut builder = client
        .request(request.method.clone(), format!("{base}{}", request.path))
        .body(request.body.clone());
    if let Some(content_type) = &request.content_type {
        builder = builder.header(reqwest::header::CONTENT_TYPE, content_type);
    }
    if let Some(key) = &request.idempotency_key {
        let value = reqwest::header::HeaderValue::from_bytes(key)
            .map_err(|err| format!("the test built a header reqwest refuses: {err}"))?;
        builder = builder.header("Idempotency-Key", value);
    }
    let response = builder
        .send()
        .await
        .map_err(|err| format!("no answer: {err}"))?;
    let status = response.status();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response
        .text()
        .await
        .map_err(|err| format!("{status}: body unreadable: {err}"))?;
    if !status.is_client_error() {
        return Err(format!("{status} (not 4xx): {text}"));
    }
    if !content_type.starts_with("application/json") {
        return Err(format!(
            "{status} with content type {content_type:?}: {text:?}"
        ));
    }
    let body: Value =
        serde_json::from_str(&text).map_err(|err| format!("{status}: not JSON ({err}): {text}"))?;
    match body["error"]["code"].as_str() {
        Some(code) if !code.is_empty() => Ok(()),
        _ => Err(format!("{status}: no error code: {text}")),
    }
}

/// Sends [`CASES`] requests from `requests` to `base` on `runtime`; panics
/// with the smallest failing request (proptest shrinks it) if any answer is
/// not a 4xx JSON error. Returns how many were sent.
pub fn run(
    runtime: &tokio::runtime::Runtime,
    base: &str,
    requests: impl Strategy<Value = Request>,
) -> u32 {
    // With the test token, so the requests reach the validation under test.
    let client = crate::http::client_builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let sent = std::sync::atomic::AtomicU32::new(0);
    let outcome = runner.run(&requests, |request| {
        sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        runtime
            .block_on(expect_json_4xx(&client, base, &request))
            .map_err(TestCaseError::fail)
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    let sent = sent.into_inner();
    assert!(sent >= CASES, "only {sent} requests were generated");
    sent
}
