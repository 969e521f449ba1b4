//! `transfer` (with `--wait`), `transfer show`, `history` (paged) and
//! `accounts`, the cross-account query.

use crate::common::{eventbank, has_fields, open, shown_at};

#[test]
fn a_transfer_completes_and_one_to_a_closed_account_is_refunded() {
    let (ann, bob, carol) = (open("Ann"), open("Bob"), open("Carol"));
    eventbank(&["deposit", &ann, "1000"]).ok();
    eventbank(&["account", "close", &carol]).ok();

    let run = eventbank(&["--json", "transfer", &ann, &bob, "300", "--wait"]);
    run.ok();
    let done = run.json();
    has_fields(
        &done,
        &[
            "transfer_id",
            "status",
            "reason",
            "balance",
            "version",
            "command_id",
            "idempotency_key",
        ],
    );
    assert_eq!(done["status"], "completed");
    let id = done["transfer_id"].as_str().unwrap();

    let shown = eventbank(&["--json", "transfer", "show", id]);
    shown.ok();
    let shown = shown.json();
    has_fields(
        &shown,
        &["transfer_id", "status", "from", "to", "amount", "currency"],
    );
    assert_eq!(
        (shown["from"].as_str(), shown["amount"].as_i64()),
        (Some(ann.as_str()), Some(300))
    );
    let text = eventbank(&["transfer", "show", id]);
    assert!(text.stdout.contains("status       completed"), "{text:?}");

    let failed = eventbank(&["--json", "transfer", &ann, &carol, "100", "--wait"]);
    failed.fails(3, "(account_closed)");
    let failed = failed.json();
    assert_eq!(
        (failed["status"].as_str(), failed["reason"].as_str()),
        (Some("failed"), Some("account_closed"))
    );

    // Not waiting: pending once the debit is accepted.
    let pending = eventbank(&["transfer", &ann, &bob, "1"]);
    pending.ok();
    assert!(pending.stdout.contains("; pending (debited"), "{pending:?}");

    eventbank(&["transfer", &ann, &bob, "999999"]).fails(3, "(insufficient_funds)");
    eventbank(&["transfer", &ann, &bob]).fails(2, "required");
    eventbank(&["transfer", "show", "00000000-0000-4000-8000-000000000000"])
        .fails(3, "(transfer_not_found)");
}

#[test]
fn history_pages_and_the_cross_account_query() {
    let dan = open("Dan");
    for amount in ["10", "20", "30"] {
        eventbank(&["deposit", &dan, amount]).ok();
    }
    // The read model applies events asynchronously: wait for the last one.
    shown_at(&dan, 4);
    let page = eventbank(&["--json", "history", &dan, "--limit", "2"]);
    page.ok();
    let page = page.json();
    has_fields(&page, &["account_id", "transactions", "next_before"]);
    let entries = page["transactions"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    has_fields(
        &entries[0],
        &["sequence", "type", "amount", "balance_after", "occurred_at"],
    );
    assert_eq!(
        (
            entries[0]["sequence"].as_u64(),
            entries[0]["balance_after"].as_i64()
        ),
        (Some(4), Some(60))
    );
    let before = page["next_before"].as_u64().unwrap().to_string();
    let rest = eventbank(&[
        "--json", "history", &dan, "--limit", "2", "--before", &before,
    ]);
    let rest = rest.json();
    let sequences: Vec<u64> = rest["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sequence"].as_u64().unwrap())
        .collect();
    assert_eq!(sequences, [2, 1]);
    let all = eventbank(&["--json", "history", &dan, "--all"]).json();
    assert_eq!(all["transactions"].as_array().unwrap().len(), 4);
    let table = eventbank(&["history", &dan, "--limit", "2"]);
    assert!(table.stdout.starts_with("SEQ  TYPE"), "{table:?}");
    assert!(table.stdout.contains("(more: --before"), "{table:?}");

    let query = eventbank(&[
        "--json",
        "accounts",
        "--min-balance",
        "60",
        "--status",
        "open",
        "--limit",
        "1000",
    ]);
    query.ok();
    let accounts = query.json()["accounts"].as_array().unwrap().clone();
    assert!(
        accounts
            .iter()
            .all(|a| a["balance"].as_i64().unwrap() >= 60),
        "{accounts:?}"
    );
    let mine = accounts
        .iter()
        .find(|a| a["account_id"] == dan.as_str())
        .expect("Dan is listed");
    has_fields(
        mine,
        &[
            "account_id",
            "holder",
            "currency",
            "status",
            "balance",
            "version",
        ],
    );
    let none = eventbank(&[
        "--json",
        "accounts",
        "--min-balance",
        "61",
        "--limit",
        "1000",
    ])
    .json();
    assert!(
        !none["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["account_id"] == dan.as_str())
    );
}
