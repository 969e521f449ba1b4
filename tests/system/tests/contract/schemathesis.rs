//! schemathesis (PyPI; pinned and installed once by `scripts/tools`) run
//! against one service: requests generated from its document (valid ones
//! and ones the document forbids), every answer checked — no 5xx, a status
//! the operation documents, its documented content type and headers, a body
//! matching the documented schema (so an error code it does not list fails).

use std::process::Command;

use eventbank_testkit::auth::TOKEN;

use super::services::Seeded;

/// Examples per operation: enough to reach each error path, few enough for
/// the four services to take a few minutes.
const MAX_EXAMPLES: &str = "30";
/// Fixed, so a failure reproduces.
const SEED: &str = "20261205";
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
     response_schema_conformance,response_headers_conformance";

/// Runs schemathesis against `base`'s document; the report on failure.
pub fn run(service: &str, base: &str, seeded: &Seeded) -> Result<(), String> {
    let tools = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/tools");
    // schemathesis keeps its example database in the working directory:
    // a scratch one, not the checkout. Its configuration there gives the
    // path ids of things that exist (else nearly every request with an id
    // stops at "not found"); an audit stream's id is an account's too.
    // Transfers come from an account of their own, with money to move; a
    // transfer's id is a transfer's.
    let scratch = tempfile::tempdir().expect("scratch directory");
    // A body field cannot be fixed like a path id, only drawn from a
    // dictionary now and then.
    let mut config = format!(
        "[parameters]\n\
         \"path.id\" = \"{account}\"\n\
         \"path.command_id\" = \"{command}\"\n\
         \"body.from\" = {{ dictionary = \"accounts\", probability = 0.5 }}\n\
         [dictionaries.accounts]\n\
         values = [\"{payer}\"]\n",
        account = seeded.account,
        command = seeded.command,
        payer = seeded.payer,
    );
    if service == "balance-projector" {
        // (A filter that matches nothing is a warning: only where it matches.)
        config.push_str(&format!(
            "[[operations]]\n\
             include-path = \"/transfers/{{id}}\"\n\
             parameters = {{ \"path.id\" = \"{}\" }}\n",
            seeded.transfer
        ));
    }
    std::fs::write(scratch.path().join("schemathesis.toml"), config).expect("schemathesis.toml");
    let output = Command::new(tools)
        .args(["schemathesis", "run", &format!("{base}/openapi.json")])
        .args(["--header", &format!("Authorization: Bearer {TOKEN}")])
        .args(["--checks", CHECKS])
        .args(["--max-examples", MAX_EXAMPLES, "--seed", SEED])
        // The stateful phase follows links; the documents have none.
        .args(["--phases", "examples,coverage,fuzzing"])
        // `min_version` reads wait (bounded) for the view. One worker: with
        // more, CPython 3.11's `ast.parse` (hypothesis describing its
        // strategies on several threads) fails now and then with "AST
        // constructor recursion depth mismatch", a schemathesis error
        // rather than a finding.
        .args(["--request-timeout", "15", "--workers", "1"])
        .env("NO_COLOR", "1")
        .current_dir(scratch.path())
        .output()
        .expect("scripts/tools schemathesis");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("schemathesis on {service}:\n{text}");
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("schemathesis found failures in {service}:\n{text}"))
    }
}
