//! The ops contract every service keeps: `/healthz`, `/readyz`, `/metrics`,
//! `/topics`, JSON errors for unknown routes, and a clean stop on shutdown.

use eventbank_runtime::Service;

use crate::service::InProcess;

/// Runs `app`, checks its ops endpoints over real HTTP, then cancels it and
/// asserts it stops by itself.
pub async fn check_ops_endpoints<S: Service + 'static>(app: S) {
    let name = S::NAME;
    let running = InProcess::run(app);
    let base = running.base_url();
    // No token: the ops endpoints answer without one.
    let client = reqwest::Client::new();
    let get = async |path: &str| {
        client
            .get(format!("{base}{path}"))
            .send()
            .await
            .unwrap_or_else(|err| panic!("GET {path}: {err}"))
    };

    let health = get("/healthz").await;
    assert_eq!(health.status(), 200);
    let body: serde_json::Value = health.json().await.expect("healthz body is JSON");
    assert_eq!(body["status"], "ok");

    let ready = get("/readyz").await;
    let status = ready.status().as_u16();
    let report: serde_json::Value = ready.json().await.expect("readyz body is JSON");
    assert!(status == 200 || status == 503, "readyz answered {status}");
    assert_eq!(
        report["ready"],
        status == 200,
        "status code agrees with body: {report}"
    );

    let metrics = get("/metrics").await;
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.expect("metrics text");
    assert!(
        text.contains(&format!("eventbank_build_info{{service=\"{name}\"")),
        "metrics lack build info for {name}: {text}"
    );

    let topics = get("/topics").await;
    assert_eq!(topics.status(), 200);
    let layout: serde_json::Value = topics.json().await.expect("topics body is JSON");
    let names: Vec<&str> = layout["topics"]
        .as_array()
        .expect("a topics list")
        .iter()
        .filter_map(|topic| topic["name"].as_str())
        .collect();
    assert!(
        names.iter().any(|name| name.ends_with("account-events")),
        "{name}'s /topics lacks account-events: {layout}"
    );

    let missing = get("/no-such-route").await;
    assert_eq!(missing.status(), 404);
    let error: serde_json::Value = missing.json().await.expect("error body is JSON");
    assert_eq!(error["error"]["code"], "route_not_found");

    running.stop().await;
}
