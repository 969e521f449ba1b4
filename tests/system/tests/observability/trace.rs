//! One OpenTelemetry trace per transfer, checked in a real Jaeger.
//!
//! The four service binaries export to the Jaeger that `scripts/dev up
//! --observability` starts. A transfer sent with a `traceparent` of the
//! test's own must come back from Jaeger's query API as one trace holding
//! spans of all four services, every span a child of another span of that
//! trace (the first one of the test's parent), and its trace id must stand
//! in each service's JSON log lines.

use std::time::Duration;

use eventbank_testkit::{Isolation, TestEnv, eventually};
use serde_json::{Value, json};

use super::SERVICES;
use super::jaeger::Trace;
use super::system::System;

/// The parent span the test claims to be (W3C `traceparent` span id).
const CALLER_SPAN: &str = "00f067aa0ba902b7";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_is_one_trace_across_all_four_services() {
    let env = TestEnv::get();
    let (query, otlp) = env.observability();
    let isolation = Isolation::new("one-trace");
    let system = System::start(env, &isolation, Some(otlp)).await;
    let http = eventbank_testkit::http::client();

    let (from, to) = system.two_accounts(&http).await;
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let traceparent = format!("00-{trace_id}-{CALLER_SPAN}-01");
    let transfer = system
        .command(
            &http,
            "/transfers",
            json!({ "from": from, "to": to, "amount": 250 }),
            Some(&traceparent),
        )
        .await;
    let transfer_id = transfer["transfer_id"]
        .as_str()
        .expect("transfer id")
        .to_owned();
    system.wait_completed(&http, &transfer_id).await;

    // The completed transfer's event is the last hop: once the projector's
    // and the audit log's spans for it are in, the trace is whole.
    let transfer_events = format!("{}transfer-events", isolation.topic_prefix());
    let trace = eventually("the whole trace in Jaeger", Duration::from_secs(90), || {
        let (http, query, trace_id, topic) = (&http, query, &trace_id, &transfer_events);
        async move {
            let trace = Trace::fetch(http, query, trace_id).await?;
            let last_hop = ["balance-projector", "audit-log"]
                .iter()
                .all(|service| trace.has_span(service, &format!("process {topic}")));
            last_hop.then_some(trace)
        }
    })
    .await;

    for service in SERVICES {
        assert!(
            trace.services().contains(service),
            "no span of {service} in the trace: {trace}"
        );
    }
    assert!(
        trace.has_span("account-command", "POST /transfers"),
        "the request's span: {trace}"
    );
    trace.assert_connected(CALLER_SPAN);

    // Stopped first: every line is written.
    let logs = system.stop().await;
    for service in SERVICES {
        let log = &logs[service];
        let traced: Vec<Value> = log
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|line| line["trace_id"] == trace_id.as_str())
            .collect();
        assert!(
            !traced.is_empty(),
            "{service} logged no line with trace_id {trace_id}"
        );
        assert!(
            traced
                .iter()
                .all(|line| line["span_id"].as_str().is_some_and(|id| id.len() == 16)),
            "{service}'s traced lines carry their span id: {traced:?}"
        );
    }
}
