//! `eventbank load --verify` and `eventbank demo` against the real system.

use crate::common::{eventbank, has_fields};

#[test]
fn load_with_verify_passes() {
    let run = eventbank(&[
        "--json",
        "load",
        "--accounts",
        "4",
        "--requests",
        "80",
        "--concurrency",
        "4",
        "--mix",
        "deposit=2,withdraw=1,transfer=1,refunded=1",
        "--initial-balance",
        "100",
        "--verify",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let summary = run.json();
    has_fields(
        &summary,
        &[
            "accounts",
            "clients",
            "rate",
            "ops",
            "ok",
            "rejected",
            "errors",
            "transfers",
            "elapsed_ms",
            "ops_per_second",
            "latency_us",
            "verify",
        ],
    );
    assert_eq!(summary["ops"], 80);
    has_fields(
        &summary["latency_us"],
        &["p50_us", "p95_us", "p99_us", "max_us"],
    );
    assert_eq!(summary["verify"]["ok"], true, "{}", summary["verify"]);
    // Some transfers went to no account and were refunded.
    let ended = &summary["verify"]["checks"][1]["detail"];
    assert!(!ended.as_str().unwrap().contains("(0 failed"), "{ended}");
    let names: Vec<&str> = summary["verify"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "outcomes_known",
            "transfers_terminal",
            "balances",
            "money_conserved",
            "history_counts",
            "audit"
        ]
    );
}

#[test]
fn load_refuses_a_run_that_would_not_end_well() {
    eventbank(&["load", "--accounts", "1"]).fails(2, "transfers need at least 2 accounts");
    eventbank(&["load", "--mix", "steal=1"]).fails(2, "unknown operation");
    eventbank(&["load", "--rate", "0"]).fails(2, "neither `max` nor a rate");
}

#[test]
fn the_demo_narrates_and_ends_verified() {
    let run = eventbank(&["demo"]);
    assert_eq!(run.code, 0, "{run:?}");
    for step in 1..=9 {
        assert!(
            run.stdout.contains(&format!("== {step}. ")),
            "step {step}: {run:?}"
        );
    }
    assert!(run.stdout.contains("refused as expected"), "{run:?}");
    assert!(
        run.stdout
            .contains(": failed (account_closed), the 1000 is back with Ann"),
        "{run:?}"
    );
    assert!(run.stdout.contains("Audit trail intact"), "{run:?}");

    // With a key, the whole demo is one idempotent session: run twice,
    // the same accounts and the same balances.
    let key = format!("demo-{}", uuid::Uuid::new_v4());
    let first = eventbank(&["--json", "demo", "--idempotency-key", &key]);
    assert_eq!(first.code, 0, "{first:?}");
    let run = eventbank(&["--json", "demo", "--idempotency-key", &key]);
    assert_eq!(run.code, 0, "{run:?}");
    let summary = run.json();
    has_fields(
        &summary,
        &[
            "accounts",
            "refused_withdrawal",
            "transfers",
            "balances",
            "history_entries",
            "audit",
            "ok",
        ],
    );
    assert_eq!(summary["transfers"]["completed"]["status"], "completed");
    assert_eq!(summary["transfers"]["failed"]["reason"], "account_closed");
    assert_eq!(summary["refused_withdrawal"], "insufficient_funds");
    assert_eq!(summary["history_entries"], 6);
    assert_eq!(summary["accounts"], first.json()["accounts"]);
    let balances: Vec<i64> = summary["balances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["balance"].as_i64().unwrap())
        .collect();
    assert_eq!(
        balances,
        [4500, 3000, 0],
        "Ann, Bob, Carol: nothing applied twice"
    );
}
