//! The services want a bearer token with the right scope: the CLI sends the
//! one it is given and says plainly, with exit code 5, when it was missing,
//! unknown or short of a scope.

use eventbank_runtime::http::Scope;
use eventbank_testkit::auth::scope_token;

use crate::common::{eventbank_as, open};

#[test]
fn without_a_token_every_request_is_refused_with_exit_code_5_and_a_hint() {
    let run = eventbank_as(None, &["account", "open", "Ann"]);
    run.fails(5, "account-command refused the request (unauthorized)");
    run.fails(5, "give a token with --token or EVENTBANK_TOKEN");
    let run = eventbank_as(Some("not-a-token-the-bank-knows"), &["accounts"]);
    run.fails(5, "balance-projector refused the request (invalid_token)");
}

#[test]
fn a_token_short_of_the_scope_is_refused_and_one_with_it_is_served() {
    let account = open("Ann");
    let reader = scope_token(Scope::Read);
    let run = eventbank_as(Some(&reader), &["deposit", &account, "100"]);
    run.fails(5, "(insufficient_scope)");
    run.fails(5, "with the scope this needs");
    // The view may not have the account yet: wait for its first version.
    eventbank_as(
        Some(&reader),
        &["account", "show", &account, "--min-version", "1"],
    )
    .ok();
    eventbank_as(Some(&reader), &["audit", "verify"])
        .fails(5, "audit-log refused the request (insufficient_scope)");
    eventbank_as(Some(&scope_token(Scope::Audit)), &["audit", "verify"]).ok();
}
