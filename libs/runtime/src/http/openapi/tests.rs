//! The document as a client fetches it from a real [`HttpServer`]: the
//! service's operations with their scopes and error codes, the ops
//! endpoints, and every documented operation actually served.

use std::net::SocketAddr;

use axum::Json;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::TokenSettings;
use crate::http::{Auth, AuthSettings, HttpServer, HttpSettings, Scope};
use crate::secret::Secret;

crate::api_errors!(
    /// What `GET /things/{id}` can answer besides its thing.
    ThingErrors { 400 => ["invalid_thing_id"], 404 => ["thing_not_found"] }
);

/// One thing.
#[utoipa::path(get, path = "/things/{id}",
    params(("id" = String, Path, description = "The thing's id")),
    responses((status = 200, description = "The thing", body = Value), ThingErrors))]
async fn thing() -> Json<Value> {
    Json(json!({"thing": true}))
}

async fn serve() -> (String, CancellationToken) {
    let auth = Auth::from_settings(&AuthSettings {
        tokens: vec![TokenSettings {
            name: "reader".into(),
            token: Secret::new("reader-0123456789abcdef"),
            scopes: vec![Scope::Read],
        }],
        ..AuthSettings::default()
    })
    .unwrap();
    let settings = HttpSettings {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        limits: Default::default(),
    };
    let server = HttpServer::bind(&settings, auth, "doc-test", "1.2.3")
        .await
        .unwrap();
    let base = format!("http://{}", server.local_addr().unwrap());
    let api = server
        .auth()
        .protect_documented(Scope::Read, OpenApiRouter::new().routes(routes!(thing)));
    let shutdown = CancellationToken::new();
    tokio::spawn(server.serve(api, shutdown.clone()));
    (base, shutdown)
}

fn codes(doc: &Value, path: &str, status: &str) -> Value {
    doc["paths"][path]["get"]["responses"][status]["content"]["application/json"]["schema"]
        ["properties"]["error"]["properties"]["code"]["enum"]
        .clone()
}

#[tokio::test]
async fn the_document_describes_scopes_errors_and_ops_and_all_of_it_is_served() {
    let (base, shutdown) = serve().await;
    let http = reqwest::Client::new();
    let response = http
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "served without a token");
    let doc: Value = response.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["version"], "1.2.3");
    assert_eq!(doc["info"]["title"], "eventbank doc-test");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );

    let thing = &doc["paths"]["/things/{id}"]["get"];
    assert_eq!(thing["security"], json!([{"bearer": ["read"]}]));
    assert_eq!(
        codes(&doc, "/things/{id}", "404"),
        json!(["thing_not_found"])
    );
    assert_eq!(
        codes(&doc, "/things/{id}", "401"),
        json!(["invalid_token", "unauthorized"])
    );
    assert_eq!(
        codes(&doc, "/things/{id}", "403"),
        json!(["insufficient_scope"])
    );
    for status in ["401", "403"] {
        let headers = &thing["responses"][status]["headers"];
        assert!(
            headers.get("WWW-Authenticate").is_some(),
            "{status}: {thing}"
        );
    }

    // The served JSON, read as a client would (utoipa's model does not
    // read every schema it writes back).
    let operations: std::collections::BTreeSet<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            let methods = item.as_object().unwrap().keys();
            methods.map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .collect();
    let expected = [
        "GET /healthz",
        "GET /metrics",
        "GET /openapi.json",
        "GET /readyz",
        "GET /things/{id}",
        "GET /topics",
    ];
    assert_eq!(operations, expected.map(str::to_owned).into());
    for operation in &operations {
        let path = operation.trim_start_matches("GET ").replace("{id}", "42");
        let status = http
            .get(format!("{base}{path}"))
            .send()
            .await
            .unwrap()
            .status();
        let guarded = doc["paths"][operation.trim_start_matches("GET ")]["get"]
            .get("security")
            .is_some();
        let expected = if guarded {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        };
        assert_eq!(status, expected, "{operation} without a token");
    }
    shutdown.cancel();
}
