//! The views need a bearer token with the `read` scope, `/admin/*` one with
//! `admin` (DESIGN.md, "HTTP APIs").

use eventbank_runtime::http::Scope;
use eventbank_testkit::Isolation;
use eventbank_testkit::auth::check_guarded;
use reqwest::{Method, StatusCode};

use crate::common::{Running, settings};

#[tokio::test(flavor = "multi_thread")]
async fn views_need_read_and_admin_needs_admin() {
    let isolation = Isolation::new("projector-auth");
    let running = Running::start_ready(settings(&isolation)).await;
    let base = running.base.clone();
    let unknown = uuid::Uuid::new_v4();

    let (status, body) = check_guarded(&base, Method::GET, "/accounts", None, Scope::Read).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a read token lists accounts: {body}"
    );
    for path in [
        format!("/accounts/{unknown}"),
        format!("/accounts/{unknown}/transactions"),
        format!("/transfers/{unknown}"),
    ] {
        check_guarded(&base, Method::GET, &path, None, Scope::Read).await;
    }

    let (status, body) =
        check_guarded(&base, Method::GET, "/admin/generation", None, Scope::Admin).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "an admin token reads the generation: {body}"
    );
    let (status, body) =
        check_guarded(&base, Method::POST, "/admin/rebuild", None, Scope::Admin).await;
    assert_eq!(
        status,
        StatusCode::ACCEPTED,
        "an admin token starts a rebuild: {body}"
    );
    running.stop().await;
}
