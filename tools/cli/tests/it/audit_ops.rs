//! `audit show|verify|reconcile|export`, `status`, `topics`, an unreachable
//! service, and shell completions.

use crate::common::{eventbank, eventbank_alone, has_fields, open, system};

/// Waits (bounded) until audit-log has recorded `events` events of `stream`.
fn audited(stream: &str, events: usize) -> serde_json::Value {
    let started = std::time::Instant::now();
    loop {
        let run = eventbank(&["--json", "audit", "show", stream, "--limit", "1000"]);
        if run.code == 0 {
            let page = run.json();
            if page["records"]
                .as_array()
                .is_some_and(|r| r.len() >= events)
            {
                return page;
            }
        }
        assert!(
            started.elapsed().as_secs() < 120,
            "audit-log never recorded {events} events: {run:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn audit_show_verify_reconcile_and_export() {
    let eve = open("Eve");
    eventbank(&["deposit", &eve, "40"]).ok();
    let page = audited(&eve, 2);
    has_fields(&page, &["stream_id", "records", "next_after"]);
    has_fields(
        &page["records"][0],
        &[
            "position",
            "sequence",
            "type",
            "hash",
            "prev_hash",
            "recorded_at",
        ],
    );
    let table = eventbank(&["audit", "show", &eve]);
    assert!(
        table.stdout.contains("account_opened") && table.stdout.contains("money_deposited"),
        "{table:?}"
    );

    let verify = eventbank(&["--json", "audit", "verify"]);
    verify.ok();
    let report = verify.json();
    has_fields(
        &report,
        &[
            "ok",
            "streams_checked",
            "records_checked",
            "broken",
            "complete",
            "retention_gaps",
        ],
    );
    assert_eq!(report["ok"], true);
    let one = eventbank(&["audit", "verify", "--stream", &eve]);
    one.ok();
    assert!(
        one.stdout
            .starts_with("Audit trail intact: 2 records in 1 streams verified."),
        "{one:?}"
    );

    let reconcile = eventbank(&["--json", "audit", "reconcile"]);
    reconcile.ok();
    let report = reconcile.json();
    has_fields(
        &report,
        &[
            "ok",
            "accounts_checked",
            "events_checked",
            "mismatch_count",
            "mismatches",
        ],
    );
    assert_eq!(report["ok"], true);

    let csv = eventbank(&["audit", "export", &eve]);
    csv.ok();
    assert_eq!(
        csv.stdout.lines().count(),
        3,
        "a header and two records: {csv:?}"
    );
    let file = std::env::temp_dir().join(format!("eventbank-export-{eve}.jsonl"));
    let path = file.display().to_string();
    let saved = eventbank(&[
        "--json", "audit", "export", &eve, "--format", "jsonl", "--output", &path,
    ]);
    saved.ok();
    assert_eq!(saved.json()["lines"], 2);
    let text = std::fs::read_to_string(&file).expect("export file");
    for line in text.lines() {
        let record: serde_json::Value =
            serde_json::from_str(line).expect("one JSON record per line");
        assert_eq!(record["stream_id"], eve.as_str());
    }
    let _ = std::fs::remove_file(file);
}

#[test]
fn status_shows_every_service_and_topics_the_layout() {
    let run = eventbank(&["--json", "status"]);
    run.ok();
    let status = run.json();
    assert_eq!(status["ok"], true);
    let services = status["services"].as_array().unwrap();
    let names: Vec<&str> = services
        .iter()
        .map(|s| s["service"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "account-command",
            "balance-projector",
            "transfer-saga",
            "audit-log"
        ]
    );
    for service in services {
        has_fields(
            service,
            &[
                "service", "url", "healthy", "ready", "lag", "checks", "error",
            ],
        );
        assert_eq!(
            (service["healthy"].as_bool(), service["ready"].as_bool()),
            (Some(true), Some(true)),
            "{service}"
        );
    }
    assert!(
        services[1]["lag"].is_u64(),
        "the projector exports its lag: {}",
        services[1]
    );
    let table = eventbank(&["status"]);
    assert!(table.stdout.starts_with("SERVICE"), "{table:?}");
    assert_eq!(table.stdout.lines().count(), 5, "{table:?}");

    let run = eventbank(&["--json", "topics"]);
    run.ok();
    let topics = run.json();
    has_fields(&topics, &["topics", "co_partitioned", "source"]);
    let list = topics["topics"].as_array().unwrap();
    let events = list
        .iter()
        .find(|t| {
            t["name"]
                .as_str()
                .is_some_and(|n| n.ends_with(".account-events"))
        })
        .expect("account-events");
    has_fields(
        events,
        &["name", "partitions", "replication_factor", "configs"],
    );
    assert_eq!(events["partitions"], 3, "the test's layout");
    assert!(
        list.iter()
            .any(|t| t["name"].as_str().unwrap().ends_with(".account-events.dlq"))
    );
    let table = eventbank(&["topics"]);
    assert!(table.stdout.contains("Co-partitioned"), "{table:?}");
}

#[test]
fn an_unreachable_service_exits_4_and_status_says_which() {
    let urls = system();
    let closed = format!(
        "http://127.0.0.1:{}",
        eventbank_testkit::process::free_port()
    );
    let down = eventbank_alone(&[
        "deposit",
        "00000000-0000-4000-8000-000000000000",
        "5",
        "--account-command-url",
        &closed,
    ]);
    down.fails(4, "account-command is unavailable at");
    assert!(
        down.stderr.contains("retry with --idempotency-key"),
        "{down:?}"
    );
    let run = eventbank_alone(&[
        "--json",
        "status",
        "--account-command-url",
        &urls.account_command,
        "--balance-projector-url",
        &urls.balance_projector,
        "--transfer-saga-url",
        &closed,
        "--audit-log-url",
        &urls.audit_log,
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    let status = run.json();
    assert_eq!(status["ok"], false);
    assert_eq!(status["services"][2]["healthy"], false);
    assert!(
        status["services"][2]["error"]
            .as_str()
            .unwrap()
            .contains("cannot connect")
    );
    assert_eq!(status["services"][0]["ready"], true);
    eventbank_alone(&["status", "--audit-log-url", "localhost:8083"])
        .fails(2, "must start with http://");
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let run = eventbank_alone(&["completions", shell]);
        run.ok();
        assert!(
            run.stdout.contains("eventbank") && run.stdout.contains("transfer"),
            "{shell}: {run:?}"
        );
    }
    eventbank_alone(&["completions", "tcsh"]).fails(2, "invalid value 'tcsh'");
}
