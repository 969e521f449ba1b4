//! Small HTTP helpers for tests that talk to running services.

use std::time::Duration;

use serde_json::Value;

use crate::eventually;

/// A client that sends the test token ([`crate::auth::TOKEN`]) with every
/// request: what tests use to call a service's API.
pub fn client() -> reqwest::Client {
    client_builder().build().expect("http client")
}

/// [`client`]'s builder, for a test that sets more (a timeout).
pub fn client_builder() -> reqwest::ClientBuilder {
    let mut headers = reqwest::header::HeaderMap::new();
    let mut value = reqwest::header::HeaderValue::from_str(&crate::auth::header_value())
        .expect("the test token is a valid header value");
    value.set_sensitive(true);
    headers.insert(reqwest::header::AUTHORIZATION, value);
    reqwest::Client::builder().default_headers(headers)
}

/// The JSON body of `GET url`; `None` on any failure (for `eventually`).
pub async fn get_json(http: &reqwest::Client, url: &str) -> Option<Value> {
    http.get(url).send().await.ok()?.json().await.ok()
}

/// Waits until `GET url` answers with a success status (a service's
/// `/healthz` or `/readyz`), two minutes at most.
pub async fn until_success(what: &str, url: &str) {
    eventually(what, Duration::from_secs(120), || async {
        reqwest::get(url)
            .await
            .ok()
            .filter(|r| r.status().is_success())
            .map(drop)
    })
    .await;
}

/// Sends `request` to `app` in-process (no server) and returns the status
/// and the JSON body (`Null` if the body is not JSON): for router tests.
pub async fn oneshot(
    app: &axum::Router,
    request: axum::http::Request<axum::body::Body>,
) -> (axum::http::StatusCode, Value) {
    use tower::ServiceExt;
    let response = app
        .clone()
        .oneshot(request)
        .await
        .expect("the router answers");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .expect("the body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}
