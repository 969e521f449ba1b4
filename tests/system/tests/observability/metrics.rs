//! Every service's `/metrics` page is valid Prometheus text (checked by
//! `promtool check metrics`, Prometheus' own parser), and its
//! counters show exactly what a scripted scenario did: two accounts opened,
//! one deposit, one transfer, one withdrawal refused for want of funds, one
//! audit verification. The gauges that are
//! measured rather than counted (lag, the chains' extent) settle where the
//! scenario leaves them.

use std::io::Write;
use std::process::{Command, Stdio};

use eventbank_testkit::{Isolation, TestEnv};
use serde_json::json;

use super::system::System;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_and_count_what_a_scripted_scenario_did() {
    let env = TestEnv::get();
    let isolation = Isolation::new("metrics");
    let system = System::start(env, &isolation, None).await;
    let http = eventbank_testkit::http::client();

    let (from, to) = system.two_accounts(&http).await;
    let transfer = json!({ "from": from, "to": to, "amount": 250 });
    let accepted = system.command(&http, "/transfers", transfer, None).await;
    let transfer_id = accepted["transfer_id"].as_str().expect("transfer id");
    system.wait_completed(&http, transfer_id).await;
    let too_much = json!({ "amount": 1_000_000 });
    let (status, refused) = system
        .send(
            &http,
            &format!("/accounts/{to}/withdrawals"),
            too_much,
            None,
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "insufficient_funds", "{refused}");
    // The audit log records the completion (and the refusal) a moment after
    // the projector.
    eventbank_testkit::eventually(
        "the audit log recorded the transfer",
        std::time::Duration::from_secs(60),
        || async {
            let pages = system.scrape().await;
            (total(&pages["audit-log"], "eventbank_audit_records_total", &[]) >= 7.0)
                .then_some(pages)
        },
    )
    .await;
    let verified = system.get(&http, "audit-log", "/audit/verify").await;
    assert_eq!(verified["ok"], true, "{verified}");
    // Lag is measured every few seconds (the loops': librdkafka's statistics
    // every 5 s); the chains' extent every 200 ms here.
    let pages = eventbank_testkit::eventually(
        "every lag and extent measured, at zero lag",
        std::time::Duration::from_secs(60),
        || async {
            let pages = system.scrape().await;
            let settled = [
                ("account-command", "eventbank_txn_lag"),
                ("transfer-saga", "eventbank_txn_lag"),
                ("balance-projector", "eventbank_projector_lag"),
                ("audit-log", "eventbank_audit_lag"),
            ]
            .iter()
            .all(|(service, series)| {
                let page = &pages[service];
                let seconds = format!("{series}_seconds");
                samples(page, series) > 0
                    && total(page, series, &[]) == 0.0
                    && samples(page, &seconds) == samples(page, series)
                    && total(page, &seconds, &[]) == 0.0
            });
            let extent = total(&pages["audit-log"], "eventbank_audit_chain_length", &[]) == 7.0;
            (settled && extent).then_some(pages)
        },
    )
    .await;

    for (service, page) in &pages {
        promtool_accepts(service, page);
    }
    let api = &pages["account-command"];
    for (route, status, count) in [
        ("/accounts", "201", 2.0),
        ("/accounts/{id}/deposits", "200", 1.0),
        ("/transfers", "202", 1.0),
        ("/accounts/{id}/withdrawals", "422", 1.0),
    ] {
        let labels = [
            "method=\"POST\"".to_owned(),
            format!("route=\"{route}\""),
            format!("status=\"{status}\""),
        ];
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        assert_eq!(
            total(
                api,
                "eventbank_http_request_duration_seconds_count",
                &labels
            ),
            count,
            "POST {route} {status}: {api}"
        );
    }
    // Opened twice, a deposit, the transfer's debit and its credit, the
    // refused withdrawal; a slow saga may repeat its credit command
    // (deduplicated by the processor).
    let commands = total(api, "eventbank_txn_records_total", &[]);
    assert!(
        commands >= 6.0,
        "commands the processor committed: {commands}"
    );
    // The API instance reads back every outcome, by code. The saga's credit
    // is answered to the saga, but its result is on the same topic.
    for (code, at_least) in [("accepted", 5.0), ("insufficient_funds", 1.0)] {
        let label = format!("code=\"{code}\"");
        let seen = total(api, "eventbank_api_command_results_total", &[&label]);
        assert!(seen >= at_least, "{code}: {seen} in {api}");
    }
    assert_eq!(
        total(
            api,
            "eventbank_api_command_results_total",
            &["status=\"rejected\""]
        ),
        1.0,
        "{api}"
    );
    // Events: two openings, a deposit, a debit, a credit and the transfer's
    // completion; the audit trail also records the refusal.
    for (service, series, labels, expected) in [
        (
            "transfer-saga",
            "eventbank_saga_transfers_started_total",
            &[][..],
            1.0,
        ),
        (
            "transfer-saga",
            "eventbank_saga_transfers_ended_total",
            &["status=\"completed\""][..],
            1.0,
        ),
        (
            "balance-projector",
            "eventbank_projector_events_total",
            &["outcome=\"applied\""][..],
            6.0,
        ),
        ("audit-log", "eventbank_audit_records_total", &[][..], 7.0),
        // Two accounts and a transfer: a chain each, seven records in all.
        ("audit-log", "eventbank_audit_chains", &[][..], 3.0),
        ("audit-log", "eventbank_audit_chain_length", &[][..], 7.0),
        (
            "audit-log",
            "eventbank_audit_verify_runs_total",
            &["scope=\"all\"", "result=\"ok\""][..],
            1.0,
        ),
        (
            "audit-log",
            "eventbank_audit_verify_runs_total",
            &[][..],
            1.0,
        ),
        ("audit-log", "eventbank_audit_chain_broken", &[][..], 0.0),
        (
            "audit-log",
            "eventbank_store_call_seconds_count",
            &[
                "operation=\"verify\"",
                "store=\"postgres\"",
                "outcome=\"ok\"",
            ][..],
            1.0,
        ),
        (
            "audit-log",
            "eventbank_store_call_seconds_count",
            &["outcome=\"error\""][..],
            0.0,
        ),
        (
            "balance-projector",
            "eventbank_store_call_seconds_count",
            &["outcome=\"error\""][..],
            0.0,
        ),
    ] {
        let page = &pages[service];
        assert_eq!(
            total(page, series, labels),
            expected,
            "{series} of {service}: {page}"
        );
    }
    let audit = &pages["audit-log"];
    assert!(
        total(
            audit,
            "eventbank_audit_last_verified_timestamp_seconds",
            &[]
        ) > 1.7e9,
        "{audit}"
    );
    // Every batch the audit log wrote is one timed append.
    assert_eq!(
        total(
            audit,
            "eventbank_store_call_seconds_count",
            &["operation=\"append_batch\""]
        ),
        total(audit, "eventbank_audit_batches_total", &[]),
        "{audit}"
    );
    let projector = &pages["balance-projector"];
    assert_eq!(
        total(
            projector,
            "eventbank_store_call_seconds_count",
            &["store=\"redis\"", "operation=\"apply_batch\""]
        ),
        total(projector, "eventbank_projector_batches_total", &[]),
        "{projector}"
    );
    assert!(
        total(
            projector,
            "eventbank_store_call_seconds_count",
            &["operation=\"read_transfer\""]
        ) >= 1.0,
        "the test read the transfer's view: {projector}"
    );
    // Every command the processor committed produced its result; the five
    // accepted ones an event each besides. The saga produced both legs'
    // commands.
    let produced = total(api, "eventbank_txn_records_produced_total", &[]);
    assert!(
        produced as u64 >= commands as u64 + 5,
        "{produced} produced for {commands} commands: {api}"
    );
    let saga = &pages["transfer-saga"];
    assert!(
        total(saga, "eventbank_txn_records_produced_total", &[]) >= 2.0,
        "{saga}"
    );
    system.stop().await;
}

/// How many samples of `name` the page has.
fn samples(page: &str, name: &str) -> usize {
    page.lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .count()
}

/// The sum of the samples of `name` whose labels contain every one of `labels`.
fn total(page: &str, name: &str, labels: &[&str]) -> f64 {
    page.lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|line| labels.iter().all(|label| line.contains(label)))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// `promtool check metrics --extended` (built by `scripts/tools`) parses
/// `page` (and counts its series). Its
/// linter is off: it applies the classic text format's naming rules, and an
/// OpenMetrics page (what `/metrics` serves) names a counter's family without
/// the `_total` its samples carry, which it reports as "no help text".
fn promtool_accepts(service: &str, page: &str) {
    let tools = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/tools");
    let mut child = Command::new(tools)
        .args(["promtool", "check", "metrics", "--extended", "--lint=none"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("scripts/tools promtool");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(page.as_bytes())
        .expect("page to promtool");
    let output = child.wait_with_output().expect("promtool ran");
    assert!(
        output.status.success(),
        "promtool check metrics refused {service}'s page:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
