//! Every route of the audit API needs a bearer token with the `audit`
//! scope (DESIGN.md, "HTTP APIs").

use eventbank_runtime::http::Scope;
use eventbank_testkit::Isolation;
use eventbank_testkit::auth::check_guarded;
use reqwest::{Method, StatusCode};

use crate::common::{Running, settings};

#[tokio::test(flavor = "multi_thread")]
async fn the_audit_api_needs_the_audit_scope() {
    let isolation = Isolation::new("audit-auth");
    let running = Running::start_ready(settings(&isolation, "auth")).await;
    let base = running.base_url();
    for path in ["/audit/verify", "/audit/reconcile"] {
        let (status, body) = check_guarded(&base, Method::GET, path, None, Scope::Audit).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "an audit token reads {path}: {body}"
        );
    }
    // Nothing is recorded in a fresh trail: past the guard, no such stream.
    let stream = format!("/audit/streams/{}", uuid::Uuid::new_v4());
    let (status, body) = check_guarded(&base, Method::GET, &stream, None, Scope::Audit).await;
    assert_eq!(body["error"]["code"], "stream_not_found", "{status} {body}");
    running.stop().await;
}
