//! The HTTP contract: each of the four service binaries serves its OpenAPI
//! document at `/openapi.json`, every operation in it is served behind the
//! scope it names ([`documents`]), and schemathesis, generating requests
//! from the document, finds no 5xx and no answer the document does not
//! describe ([`schemathesis`]). Run on the dev infrastructure ([`services`]).

mod documents;
mod schemathesis;
mod services;

use eventbank_testkit::{Isolation, TestEnv};

const SERVICES: [&str; 4] = [
    "account-command",
    "balance-projector",
    "transfer-saga",
    "audit-log",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_keeps_to_its_openapi_document() {
    let env = TestEnv::get();
    let isolation = Isolation::new("contract");
    let services = services::Services::start(env, &isolation).await;
    let http = reqwest::Client::new();
    for service in SERVICES {
        let base = services.base(service);
        let doc = documents::fetch(&http, service, base).await;
        documents::check_served_with_scopes(&http, service, base, &doc).await;
    }
    // Something to find: an account with money, so reads of the views and
    // the audit trail are not all empty.
    let seeded = services.seed(&http).await;
    let mut failures = Vec::new();
    for service in SERVICES {
        if let Err(report) = schemathesis::run(service, services.base(service), &seeded) {
            failures.push(report);
        }
    }
    services.stop().await;
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
