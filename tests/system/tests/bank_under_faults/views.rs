//! The two views of the log checked against it after the faults: the read
//! model's balances and transfers, and the audit trail.

use std::collections::BTreeMap;

use eventbank_events::{AccountEventEnvelope, AccountId, TransferId};
use eventbank_testkit::eventually;
use eventbank_testkit::http::get_json;
use eventbank_testkit::log::balance;
use serde_json::Value;

use super::SETTLE;

/// The projector at `projector` shows each opened account at its stream's
/// version and balance, and every transfer ended.
pub(super) async fn check_read_model(
    http: &reqwest::Client,
    projector: &str,
    streams: &BTreeMap<AccountId, Vec<AccountEventEnvelope>>,
    opened: &[AccountId],
    transfers: &[TransferId],
) {
    // A projector restarted late in the schedule may still be catching up:
    // the view must reach the log's version (and then show its balance)
    // within the settle time, not within one read's wait.
    for id in opened {
        let stream = &streams[id];
        let url = format!("{projector}/accounts/{id}?min_version={}", stream.len());
        let view: Value = eventually(
            &format!("read model of {id} at version {}", stream.len()),
            SETTLE,
            || async {
                let view: Value = http.get(&url).send().await.ok()?.json().await.ok()?;
                (view["behind"] == false).then_some(view)
            },
        )
        .await;
        assert_eq!(
            view["balance"],
            balance(stream),
            "read model of {id}: {view}"
        );
    }
    for id in transfers {
        let view = get_json(http, &format!("{projector}/transfers/{id}"))
            .await
            .expect("transfer view");
        let status = view["status"].as_str().unwrap_or_default().to_owned();
        assert!(
            status == "completed" || status == "failed",
            "transfer {id} is {view}"
        );
    }
}

/// The audit log at `audit` has caught up with all `events`, and its chains
/// reconcile with the log and verify.
pub(super) async fn check_audit_trail(http: &reqwest::Client, audit: &str, events: usize) {
    let reconciled = eventually("the audit log caught up", SETTLE, || async {
        let report = get_json(http, &format!("{audit}/audit/reconcile")).await?;
        (report["events_checked"].as_u64() == Some(events as u64)).then_some(report)
    })
    .await;
    assert_eq!(reconciled["ok"], true, "{reconciled}");
    let verified = get_json(http, &format!("{audit}/audit/verify"))
        .await
        .expect("verify");
    assert_eq!(verified["ok"], true, "{verified}");
}
