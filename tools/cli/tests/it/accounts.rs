//! `account open|show|close`, `deposit`, `withdraw`: output, `--json`
//! fields, exit codes and idempotency keys.

use crate::common::{eventbank, has_fields, open};

#[test]
fn open_deposit_withdraw_show_and_close() {
    let run = eventbank(&["--json", "account", "open", "Ann", "--currency", "EUR"]);
    run.ok();
    let opened = run.json();
    has_fields(
        &opened,
        &[
            "account_id",
            "holder",
            "currency",
            "version",
            "balance",
            "command_id",
            "idempotency_key",
        ],
    );
    assert_eq!(opened["holder"], "Ann");
    assert_eq!(opened["version"], 1);
    let ann = opened["account_id"].as_str().unwrap();

    let deposited = eventbank(&["deposit", ann, "500"]);
    deposited.ok();
    assert_eq!(
        deposited.stdout.trim(),
        format!("Deposited 500 into {ann}: balance 500 (version 2).")
    );
    let withdrawn = eventbank(&["--json", "withdraw", ann, "200"]);
    withdrawn.ok();
    let withdrawn = withdrawn.json();
    has_fields(
        &withdrawn,
        &[
            "account_id",
            "version",
            "balance",
            "command_id",
            "idempotency_key",
        ],
    );
    assert_eq!(withdrawn["balance"], 300);
    assert_eq!(withdrawn["version"], 3);

    let shown = eventbank(&["--json", "account", "show", ann, "--min-version", "3"]);
    shown.ok();
    let shown = shown.json();
    has_fields(
        &shown,
        &[
            "account_id",
            "holder",
            "currency",
            "status",
            "balance",
            "version",
        ],
    );
    assert_eq!(
        (shown["balance"].as_i64(), shown["status"].as_str()),
        (Some(300), Some("open"))
    );
    let table = eventbank(&["account", "show", ann, "--min-version", "3"]);
    table.ok();
    assert!(table.stdout.contains("balance     300"), "{table:?}");

    eventbank(&["close", ann]).fails(2, "unrecognized subcommand");
    eventbank(&["account", "close", ann]).fails(3, "(balance_not_zero)");
    eventbank(&["withdraw", ann, "300"]).ok();
    let closed = eventbank(&["--json", "account", "close", ann]);
    closed.ok();
    assert_eq!(closed.json()["version"], 5);
    eventbank(&["deposit", ann, "1"])
        .fails(3, "account-command rejected the request (account_closed)");
}

#[test]
fn a_rejection_a_usage_error_and_an_unknown_account_have_their_own_exit_codes() {
    let bob = open("Bob");
    let refused = eventbank(&["withdraw", &bob, "9999"]);
    refused.fails(
        3,
        "account-command rejected the request (insufficient_funds)",
    );
    assert_eq!(
        refused.stderr.lines().count(),
        1,
        "one sentence: {refused:?}"
    );
    assert!(refused.stdout.is_empty(), "{refused:?}");

    eventbank(&["deposit", &bob, "0"]).fails(2, "0 is not in 1..");
    eventbank(&["deposit", &bob, "ten"]).fails(2, "invalid value 'ten'");
    eventbank(&["deposit", "not-an-id", "5"]).fails(2, "ACCOUNT must be a UUID");
    eventbank(&["account", "show", "00000000-0000-4000-8000-000000000000"]).fails(
        3,
        "balance-projector rejected the request (account_not_found)",
    );
}

#[test]
fn an_idempotency_key_makes_a_retry_return_the_first_outcome() {
    let cid = open("Cid");
    let key = format!("cli-test-{cid}");
    let first = eventbank(&["--json", "deposit", &cid, "70", "--idempotency-key", &key]);
    first.ok();
    let again = eventbank(&["--json", "deposit", &cid, "70", "--idempotency-key", &key]);
    again.ok();
    assert_eq!(first.json()["version"], again.json()["version"]);
    assert_eq!(again.json()["balance"], 70, "applied once");
    assert_eq!(again.json()["idempotency_key"], key.as_str());
    eventbank(&["deposit", &cid, "71", "--idempotency-key", &key])
        .fails(3, "(idempotency_key_reused)");
    // Without a key each invocation is a new command.
    eventbank(&["deposit", &cid, "70"]).ok();
    let shown = eventbank(&["--json", "account", "show", &cid, "--min-version", "3"]);
    assert_eq!(shown.json()["balance"], 140);
}
