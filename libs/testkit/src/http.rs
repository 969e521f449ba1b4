//! Small HTTP helpers for tests that talk to running services.

use std::time::Duration;

use serde_json::Value;

use crate::eventually;

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
