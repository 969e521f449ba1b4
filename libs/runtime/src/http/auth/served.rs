//! Auth as a client meets it: a real [`HttpServer`] serving guarded routes
//! next to the ops endpoints, asked over HTTP.

use std::net::SocketAddr;

use axum::Router;
use axum::routing::{get, post};
use reqwest::StatusCode;
use reqwest::header::WWW_AUTHENTICATE;
use tokio_util::sync::CancellationToken;

use super::{Auth, AuthSettings, Caller, Scope, TokenSettings};
use crate::http::{HttpServer, HttpSettings};
use crate::secret::Secret;

const READER: &str = "reader-0123456789abcdef";
const WRITER: &str = "writer-0123456789abcdef";
const SCRAPER: &str = "scraper-0123456789abcdef";

fn token(name: &str, value: &str, scope: Scope) -> TokenSettings {
    TokenSettings {
        name: name.into(),
        token: Secret::new(value),
        scopes: vec![scope],
    }
}

/// A server with `GET /things` (read) and `POST /things` (write; it answers
/// the caller's token name), `/metrics` behind `metrics_token` if given.
async fn serve(metrics_token: Option<&str>) -> (String, CancellationToken) {
    let auth = Auth::from_settings(&AuthSettings {
        tokens: vec![
            token("reader", READER, Scope::Read),
            token("writer", WRITER, Scope::Write),
        ],
        metrics_token: metrics_token.map(Secret::new),
        ..AuthSettings::default()
    })
    .unwrap();
    let settings = HttpSettings {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        limits: Default::default(),
    };
    let server = HttpServer::bind(&settings, auth, "auth-test", "0")
        .await
        .unwrap();
    let base = format!("http://{}", server.local_addr().unwrap());
    let reads = Router::new().route("/things", get(|| async { "listed" }));
    let writes = Router::new().route(
        "/things/new",
        post(|axum::Extension(Caller(name)): axum::Extension<Caller>| async move { name }),
    );
    let api = server
        .auth()
        .protect(Scope::Read, reads)
        .merge(server.auth().protect(Scope::Write, writes));
    let shutdown = CancellationToken::new();
    tokio::spawn(server.serve(api.into(), shutdown.clone()));
    (base, shutdown)
}

#[tokio::test]
async fn guarded_routes_answer_by_token_and_scope_and_ops_stay_open() {
    let (base, shutdown) = serve(None).await;
    let http = reqwest::Client::new();
    let things = format!("{base}/things");

    let none = http.get(&things).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        none.headers()[WWW_AUTHENTICATE],
        "Bearer realm=\"eventbank\""
    );
    let body: serde_json::Value = none.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");

    let wrong = http
        .get(&things)
        .bearer_auth("not-a-known-token-at-all")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = wrong.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_token");

    let scope = http.get(&things).bearer_auth(WRITER).send().await.unwrap();
    assert_eq!(scope.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        scope.headers()[WWW_AUTHENTICATE],
        "Bearer realm=\"eventbank\", error=\"insufficient_scope\", scope=\"read\""
    );

    let read = http.get(&things).bearer_auth(READER).send().await.unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(read.text().await.unwrap(), "listed");
    let write = http
        .post(format!("{base}/things/new"))
        .bearer_auth(WRITER)
        .send()
        .await
        .unwrap();
    assert_eq!(
        write.text().await.unwrap(),
        "writer",
        "the handler sees its caller"
    );

    for open in ["/healthz", "/readyz", "/metrics"] {
        let status = http
            .get(format!("{base}{open}"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::OK, "{open} needs no token");
    }
    let unknown = http.get(format!("{base}/nothing")).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    shutdown.cancel();
}

#[tokio::test]
async fn a_metrics_token_closes_metrics_to_everyone_else() {
    let (base, shutdown) = serve(Some(SCRAPER)).await;
    let http = reqwest::Client::new();
    let metrics = format!("{base}/metrics");
    assert_eq!(
        http.get(&metrics).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let api_token = http.get(&metrics).bearer_auth(READER).send().await.unwrap();
    assert_eq!(api_token.status(), StatusCode::UNAUTHORIZED);
    let scraped = http
        .get(&metrics)
        .bearer_auth(SCRAPER)
        .send()
        .await
        .unwrap();
    assert_eq!(scraped.status(), StatusCode::OK);
    assert!(
        scraped
            .text()
            .await
            .unwrap()
            .contains("eventbank_build_info")
    );
    let health = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    shutdown.cancel();
}
