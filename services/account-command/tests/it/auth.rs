//! Every route of the command API needs a bearer token of its scope:
//! commands `write`, command results `read` (DESIGN.md, "HTTP APIs").

use eventbank_runtime::http::Scope;
use eventbank_testkit::Isolation;
use eventbank_testkit::auth::check_guarded;
use eventbank_testkit::bank::BankClient;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{Running, settings};

#[tokio::test(flavor = "multi_thread")]
async fn commands_need_write_and_results_need_read() {
    let isolation = Isolation::new("auth");
    let running = Running::start_ready(settings(&isolation, true, true, "auth")).await;
    let base = running.base_url();

    let open = json!({ "holder": "Ada", "currency": "EUR" });
    let (status, body) =
        check_guarded(&base, Method::POST, "/accounts", Some(open), Scope::Write).await;
    assert!(
        status == StatusCode::CREATED || status == StatusCode::ACCEPTED,
        "a write token opens an account: {status} {body}"
    );

    let missing = uuid::Uuid::new_v4();
    let amount = json!({ "amount": 100 });
    for (path, body) in [
        (
            format!("/accounts/{missing}/deposits"),
            Some(amount.clone()),
        ),
        (format!("/accounts/{missing}/withdrawals"), Some(amount)),
        (format!("/accounts/{missing}/close"), None),
        (
            "/transfers".to_owned(),
            Some(json!({ "from": missing, "to": uuid::Uuid::new_v4(), "amount": 1 })),
        ),
    ] {
        check_guarded(&base, Method::POST, &path, body, Scope::Write).await;
    }

    // A command's result, read with a read token.
    let client = BankClient::new(base.clone());
    let reply = client
        .post("/accounts", json!({ "holder": "Bo", "currency": "EUR" }))
        .await;
    let command = reply.command_id.expect("a command id");
    let (status, body) = check_guarded(
        &base,
        Method::GET,
        &format!("/commands/{command}"),
        None,
        Scope::Read,
    )
    .await;
    assert!(
        status == StatusCode::OK || status == StatusCode::CREATED,
        "a read token reads a result: {status} {body}"
    );
    running.stop().await;
}
