//! Hostile HTTP input against the audit API, generated: stream ids that are
//! not UUIDs, path traversal, unknown query parameters (refused, so a typo
//! is never ignored), limits and cursors that are not numbers or out of
//! range, unknown export formats, wrong methods and unknown paths. Every
//! answer must be a 4xx JSON error with a code, and the trail must not change.

use crate::common;

use eventbank_testkit::Isolation;
use eventbank_testkit::hostile::{
    self, Request, bad_id, bad_number, encode, other_method, unknown_path,
};
use proptest::prelude::*;
use reqwest::Method;

fn stream() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A parameter name none of the routes knows.
fn unknown_param() -> impl Strategy<Value = String> {
    "[a-z_]{1,12}".prop_filter("not a known parameter", |name: &String| {
        !["after", "limit", "format", "stream"].contains(&name.as_str())
    })
}

fn bad_int() -> impl Strategy<Value = String> {
    prop_oneof![
        bad_number(),
        (i64::MIN..0).prop_map(|n| n.to_string()),
        Just("0".to_owned()),
        Just("9223372036854775808".to_owned()),
    ]
}

fn requests() -> impl Strategy<Value = Request> {
    let bad_streams =
        bad_id().prop_map(|id| Request::get(format!("/audit/streams/{}", encode(&id))));
    let bad_stream_queries = prop_oneof![
        unknown_param().prop_map(|name| format!("{name}=1")),
        // `after` may be 0; a limit may not.
        bad_int().prop_map(|v| format!("limit={}", encode(&v))),
        bad_number().prop_map(|v| format!("after={}", encode(&v))),
        "\\PC{1,10}"
            .prop_filter("not a format", |f: &String| {
                !["json", "jsonl", "ndjson", "csv"].contains(&f.as_str())
            })
            .prop_map(|v| format!("format={}", encode(&v))),
    ]
    .prop_map(|query| Request::get(format!("/audit/streams/{}?{query}", stream())));
    let bad_verify = prop_oneof![
        unknown_param().prop_map(|name| format!("{name}=1")),
        bad_id().prop_map(|id| format!("stream={}", encode(&id))),
    ]
    .prop_map(|query| Request::get(format!("/audit/verify?{query}")));
    let bad_reconcile = prop_oneof![
        unknown_param().prop_map(|name| format!("{name}=1")),
        bad_int().prop_map(|v| format!("limit={}", encode(&v))),
    ]
    .prop_map(|query| Request::get(format!("/audit/reconcile?{query}")));
    let wrong_methods = (
        other_method(Method::GET),
        prop_oneof![
            Just(format!("/audit/streams/{}", stream())),
            Just("/audit/verify".to_owned()),
            Just("/audit/reconcile".to_owned()),
        ],
    )
        .prop_map(|(method, path)| Request::json(method, path, b"{}".to_vec()));
    let unknown = unknown_path(&["/audit/"]).prop_map(Request::get);
    prop_oneof![
        bad_streams,
        bad_stream_queries,
        bad_verify,
        bad_reconcile,
        wrong_methods,
        unknown
    ]
}

#[test]
fn every_hostile_request_gets_a_4xx_json_error_and_changes_nothing() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let isolation = Isolation::new("hostile-audit");
    let running = runtime.block_on(common::Running::start_ready(common::settings(
        &isolation, "hostile",
    )));
    let verify = |base: &str| {
        let url = format!("{base}/audit/verify");
        runtime.block_on(async move {
            eventbank_testkit::http::client()
                .get(url)
                .send()
                .await
                .expect("verify")
                .text()
                .await
                .expect("verify body")
        })
    };
    let base = running.base_url();
    let before = verify(&base);

    hostile::run(&runtime, &base, requests());

    assert_eq!(verify(&base), before, "the trail changed");
    runtime.block_on(running.stop());
}
