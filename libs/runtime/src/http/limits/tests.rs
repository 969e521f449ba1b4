//! The limits as a client meets them: a real [`HttpServer`] whose one API
//! route waits until the test lets it go, asked over HTTP.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use reqwest::StatusCode;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::HttpLimits;
use crate::http::{Auth, AuthSettings, HttpServer, HttpSettings};

/// A server whose `GET /slow` answers once `release` is notified (or after
/// `hold`), with `limits`.
async fn serve(
    limits: HttpLimits,
    release: Arc<Notify>,
    hold: Duration,
) -> (String, CancellationToken) {
    let auth = Auth::from_settings(&AuthSettings {
        enabled: false,
        ..AuthSettings::default()
    })
    .unwrap();
    let settings = HttpSettings {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        limits,
    };
    let server = HttpServer::bind(&settings, auth, "limits-test", "0")
        .await
        .unwrap();
    let base = format!("http://{}", server.local_addr().unwrap());
    let api = Router::new().route(
        "/slow",
        get(move || async move {
            tokio::select! {
                () = release.notified() => {}
                () = tokio::time::sleep(hold) => {}
            }
            "done"
        }),
    );
    let shutdown = CancellationToken::new();
    tokio::spawn(server.serve(api.into(), shutdown.clone()));
    (base, shutdown)
}

/// Starts `count` requests to `/slow` and waits until the server holds them
/// all (each has been sent; the handler waits on the notify).
async fn hold(base: &str, count: usize) -> Vec<tokio::task::JoinHandle<StatusCode>> {
    let mut held = Vec::new();
    for _ in 0..count {
        let url = format!("{base}/slow");
        held.push(tokio::spawn(async move {
            reqwest::get(url).await.unwrap().status()
        }));
    }
    // The requests are in flight once their connections are accepted and
    // read: give the server a moment (no assertion depends on timing: a
    // request not yet in flight would only be counted late, and the refused
    // one below is sent after these).
    tokio::time::sleep(Duration::from_millis(300)).await;
    held
}

async fn refused(base: &str, path: &str) -> (StatusCode, Option<String>, serde_json::Value) {
    let response = reqwest::get(format!("{base}{path}")).await.unwrap();
    let status = response.status();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry, response.json().await.unwrap_or_default())
}

#[tokio::test]
async fn one_client_past_its_share_gets_429_while_probes_still_answer() {
    let release = Arc::new(Notify::new());
    let limits = HttpLimits {
        max_in_flight_per_client: 2,
        ..HttpLimits::default()
    };
    let (base, shutdown) = serve(limits, Arc::clone(&release), Duration::from_secs(30)).await;
    let held = hold(&base, 2).await;
    let (status, retry, body) = refused(&base, "/slow").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(retry.as_deref(), Some("1"));
    assert_eq!(body["error"]["code"], "too_many_requests");
    let probe = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(
        probe.status(),
        StatusCode::OK,
        "ops endpoints are not limited"
    );
    release.notify_waiters();
    for request in held {
        assert_eq!(request.await.unwrap(), StatusCode::OK);
    }
    // Their places are free again.
    let again = tokio::spawn({
        let base = base.clone();
        async move { reqwest::get(format!("{base}/slow")).await.unwrap().status() }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    release.notify_waiters();
    assert_eq!(again.await.unwrap(), StatusCode::OK);
    shutdown.cancel();
}

#[tokio::test]
async fn past_the_overall_limit_every_client_gets_503_overloaded() {
    let release = Arc::new(Notify::new());
    let limits = HttpLimits {
        max_in_flight: 1,
        ..HttpLimits::default()
    };
    let (base, shutdown) = serve(limits, Arc::clone(&release), Duration::from_secs(30)).await;
    let held = hold(&base, 1).await;
    let (status, retry, body) = refused(&base, "/slow").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(retry.as_deref(), Some("1"));
    assert_eq!(body["error"]["code"], "overloaded");
    release.notify_waiters();
    for request in held {
        assert_eq!(request.await.unwrap(), StatusCode::OK);
    }
    shutdown.cancel();
}

#[tokio::test]
async fn a_request_past_its_timeout_is_answered_503_request_timeout() {
    let limits = HttpLimits {
        request_timeout_ms: 200,
        ..HttpLimits::default()
    };
    let (base, shutdown) = serve(limits, Arc::new(Notify::new()), Duration::from_secs(30)).await;
    let (status, retry, body) = refused(&base, "/slow").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(retry.as_deref(), Some("1"));
    assert_eq!(body["error"]["code"], "request_timeout");
    shutdown.cancel();
}

#[test]
fn limits_come_from_the_http_section_and_default_when_absent() {
    let settings: HttpSettings = serde_json::from_value(serde_json::json!({
        "bind": "0.0.0.0:8080",
        "limits": { "max_in_flight_per_client": 8 }
    }))
    .unwrap();
    assert_eq!(settings.limits.max_in_flight_per_client, 8);
    assert_eq!(
        settings.limits.max_in_flight,
        HttpLimits::default().max_in_flight
    );
    let bare: HttpSettings =
        serde_json::from_value(serde_json::json!({ "bind": "0.0.0.0:8080" })).unwrap();
    assert_eq!(bare.limits, HttpLimits::default());
    assert!(
        serde_json::from_value::<HttpSettings>(serde_json::json!({
            "bind": "0.0.0.0:8080",
            "limits": { "max_inflight": 8 }
        }))
        .is_err(),
        "a misspelt limit is refused"
    );
}
