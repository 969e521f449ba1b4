//! Each service's document as a client fetches it, held against what the
//! service serves: every documented operation answers (no 404 for a route
//! that is not there, no 405), a guarded one only to its documented scope.

use eventbank_runtime::http::Scope;
use eventbank_testkit::auth::scope_token;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// `GET {base}/openapi.json`, without a token: an OpenAPI 3.1 document
/// titled and versioned after the service.
pub async fn fetch(http: &reqwest::Client, service: &str, base: &str) -> Value {
    let response = http
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .expect("GET /openapi.json");
    assert_eq!(response.status(), StatusCode::OK, "{service} /openapi.json");
    let doc: Value = response.json().await.expect("a JSON document");
    assert_eq!(doc["openapi"], "3.1.0", "{service}");
    assert_eq!(doc["info"]["title"], format!("eventbank {service}"));
    assert_eq!(
        doc["info"]["version"], "0.1.0",
        "{service}: the crate's version"
    );
    doc
}

/// Sends `method path` with `token` (if any); POSTs carry `{}`.
async fn ask(
    http: &reqwest::Client,
    method: &Method,
    url: &str,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = http.request(method.clone(), url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if method == Method::POST {
        request = request.json(&serde_json::json!({}));
    }
    let response = request.send().await.expect("request sent");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Every operation of `doc`: served, and guarded by exactly the scope it
/// names (or open when it names none). Path ids are fresh UUIDs, so an
/// answer may be a 404 — but a handler's, never `route_not_found`.
pub async fn check_served_with_scopes(
    http: &reqwest::Client,
    service: &str,
    base: &str,
    doc: &Value,
) {
    let paths = doc["paths"].as_object().expect("paths");
    assert!(
        paths.contains_key("/openapi.json") && paths.contains_key("/healthz"),
        "{service}"
    );
    for (path, item) in paths {
        let id = uuid::Uuid::new_v4().to_string();
        let concrete = path.replace("{id}", &id).replace("{command_id}", &id);
        let url = format!("{base}{concrete}");
        for (method, operation) in item.as_object().expect("path item") {
            let method: Method = method.to_uppercase().parse().expect("a method");
            let what = format!("{service}: {method} {path}");
            let scope = operation["security"][0]["bearer"][0].as_str();
            let Some(scope) = scope else {
                // Open; `POST /admin/rebuild` is the one operation here that
                // changes something, and it is guarded.
                let (status, body) = ask(http, &method, &url, None).await;
                assert!(
                    status.is_success(),
                    "{what} without a token: {status} {body}"
                );
                continue;
            };
            let (status, _) = ask(http, &method, &url, None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{what} without a token");
            for other in Scope::ALL {
                let token = scope_token(other);
                let (status, body) = ask(http, &method, &url, Some(&token)).await;
                if other.as_str() == scope {
                    assert!(
                        ![401, 403, 405].contains(&status.as_u16())
                            && body["error"]["code"] != "route_not_found",
                        "{what} with its documented scope {scope}: {status} {body}"
                    );
                } else {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{what} with {other}: {body}");
                }
            }
        }
    }
}
