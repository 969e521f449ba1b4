//! Hostile HTTP input against the read model's API, generated: ids that are
//! not UUIDs, path traversal, numeric parameters that are not numbers or out
//! of range, unknown statuses, wrong methods (the admin rebuild included)
//! and unknown paths. Every answer must be a 4xx JSON error with a code, and
//! the read model must not change: no rebuild starts, no key is written.

use crate::common;

use eventbank_testkit::Isolation;
use eventbank_testkit::hostile::{
    self, Request, bad_id, bad_number, encode, other_method, unknown_path,
};
use proptest::prelude::*;
use reqwest::Method;

fn account() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn requests() -> impl Strategy<Value = Request> {
    let bad_ids = (
        prop_oneof![
            Just("/accounts/{}"),
            Just("/accounts/{}/transactions"),
            Just("/transfers/{}")
        ],
        bad_id(),
    )
        .prop_map(|(template, id)| Request::get(template.replace("{}", &encode(&id))));
    let bad_min_versions = prop_oneof![bad_number(), (i64::MIN..0).prop_map(|n| n.to_string()),]
        .prop_map(|value| {
            Request::get(format!(
                "/accounts/{}?min_version={}",
                account(),
                encode(&value)
            ))
        });
    let bad_pages = (
        prop_oneof![Just("limit"), Just("before")],
        prop_oneof![bad_number(), (i64::MIN..0).prop_map(|n| n.to_string()),],
    )
        .prop_map(|(name, value)| {
            Request::get(format!(
                "/accounts/{}/transactions?{name}={}",
                account(),
                encode(&value)
            ))
        });
    let bad_limits = prop_oneof![
        Just("0".to_owned()),
        (1_001u64..u64::MAX).prop_map(|n| n.to_string()),
        bad_number(),
    ];
    let bad_queries = prop_oneof![
        bad_limits
            .clone()
            .prop_map(|v| format!("limit={}", encode(&v))),
        bad_number().prop_map(|v| format!("min_balance={}", encode(&v))),
        "\\PC{1,12}"
            .prop_filter("not a status", |s: &String| s != "open" && s != "closed")
            .prop_map(|v| format!("status={}", encode(&v))),
    ]
    .prop_map(|query| Request::get(format!("/accounts?{query}")));
    let wrong_methods = prop_oneof![
        other_method(Method::GET).prop_map(|m| (m, format!("/accounts/{}", account()))),
        other_method(Method::GET).prop_map(|m| (m, "/accounts".to_owned())),
        other_method(Method::GET).prop_map(|m| (m, format!("/transfers/{}", account()))),
        other_method(Method::GET).prop_map(|m| (m, "/admin/generation".to_owned())),
        other_method(Method::POST).prop_map(|m| (m, "/admin/rebuild".to_owned())),
    ]
    .prop_map(|(method, path)| Request::json(method, path, b"{}".to_vec()));
    let unknown = unknown_path(&["/accounts", "/transfers/", "/admin/"]).prop_map(Request::get);
    prop_oneof![
        bad_ids,
        bad_min_versions,
        bad_pages,
        bad_queries,
        wrong_methods,
        unknown
    ]
}

#[test]
fn every_hostile_request_gets_a_4xx_json_error_and_changes_nothing() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let isolation = Isolation::new("hostile-projector");
    let running = runtime.block_on(common::Running::start_ready(common::settings(&isolation)));
    let generation = runtime.block_on(running.get("/admin/generation"));
    let keys_before = runtime.block_on(redis_keys(&isolation));

    hostile::run(&runtime, &running.base, requests());

    assert_eq!(
        runtime.block_on(running.get("/admin/generation")),
        generation,
        "a generated request started a rebuild"
    );
    assert_eq!(
        runtime.block_on(redis_keys(&isolation)),
        keys_before,
        "a generated request wrote to the read model"
    );
    runtime.block_on(running.stop());
}

/// Every key under the test's prefix, sorted.
async fn redis_keys(isolation: &Isolation) -> Vec<String> {
    let mut redis = common::redis_connection().await;
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}*", isolation.redis_prefix()))
        .query_async(&mut redis)
        .await
        .expect("KEYS");
    keys.sort();
    keys
}
