//! The bank's invariants, checked from outside against a [`Ledger`]:
//!
//! 1. every command with an unknown outcome is asked again with its key
//!    (the bank answers a repeat with the first outcome), so the ledger is whole;
//! 2. every acknowledged transfer ends `completed` or `failed` (refunded);
//! 3. every account's balance and version are what the acknowledged
//!    commands and transfer outcomes make them, and no balance is negative;
//! 4. money is conserved: Σ balances + money in flight = Σ deposits − Σ withdrawals;
//! 5. every account's history has exactly `version` entries;
//! 6. the audit trail has recorded every event of every account, its chains
//!    verify and its balances reconcile.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use super::ledger::{Ledger, Outcomes};
use super::workload::send;
use crate::client::{Client, Service};
use crate::commands::transfer::wait_terminal;
use crate::exit::CliError;

/// One invariant's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub ok: bool,
    pub checks: Vec<Check>,
}

fn check(name: &'static str, problems: &[String], fine: String) -> Check {
    Check {
        name,
        ok: problems.is_empty(),
        detail: if problems.is_empty() {
            fine
        } else {
            let mut shown = problems
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ");
            if problems.len() > 5 {
                shown.push_str(&format!("; and {} more", problems.len() - 5));
            }
            shown
        },
    }
}

/// Checks every invariant; `limit` bounds each wait (transfers ending, the
/// read model and the audit trail catching up). Only a bank unreachable for
/// longer than `limit` is an error (a service restarting is waited for); a
/// broken invariant is a failed [`Check`].
pub async fn verify(client: &Client, ledger: &Ledger, limit: Duration) -> Result<Report, CliError> {
    let mut checks = Vec::new();
    let patience = Instant::now() + limit;

    let unknown = ledger.take_unknown();
    let mut unsettled = Vec::new();
    for command in &unknown {
        let settled = patiently(patience, || send(client, ledger, &command.op, &command.key)).await;
        if let Err(err) = settled {
            unsettled.push(format!("{:?}: {err}", command.op));
        }
    }
    // A retry above that met the bank away noted its command as unknown
    // again; each is settled or reported already.
    let _ = ledger.take_unknown();
    checks.push(check(
        "outcomes_known",
        &unsettled,
        format!("{} unknown outcomes settled", unknown.len()),
    ));

    let transfers = ledger.transfers();
    let mut outcomes = Outcomes::new();
    let mut stuck = Vec::new();
    for transfer in &transfers {
        match patiently(patience, || wait_terminal(client, &transfer.id, limit)).await {
            Ok(view) => {
                outcomes.insert(transfer.id.clone(), view["status"] == "completed");
            }
            Err(err @ CliError::Unavailable { .. }) if !is_timeout(&err) => return Err(err),
            Err(err) => stuck.push(format!("{}: {err}", transfer.id)),
        }
    }
    let failed = outcomes.values().filter(|completed| !**completed).count();
    checks.push(check(
        "transfers_terminal",
        &stuck,
        format!(
            "{} transfers ended ({failed} failed and refunded)",
            transfers.len()
        ),
    ));

    let expected = ledger.expected(&outcomes);
    let (mut wrong, mut total, mut history_problems) = (Vec::new(), 0i128, Vec::new());
    for (id, want) in &expected {
        let view = patiently(patience, || caught_up(client, id, want.events, limit)).await?;
        let balance = i128::from(view["balance"].as_i64().unwrap_or(i64::MIN));
        let version = view["version"].as_u64().unwrap_or(0);
        total += balance;
        if balance != want.balance || version != want.events || balance < 0 {
            wrong.push(format!(
                "{id}: balance {balance} version {version}, expected {} and {}",
                want.balance, want.events
            ));
        }
        let entries = patiently(patience, || history_len(client, id)).await?;
        if entries != want.events {
            history_problems.push(format!(
                "{id}: {entries} history entries, expected {}",
                want.events
            ));
        }
    }
    checks.push(check(
        "balances",
        &wrong,
        format!(
            "{} accounts at their expected balance and version, none negative",
            expected.len()
        ),
    ));
    let inflow = ledger.net_inflow();
    // Money of a transfer that has not ended is in flight, in no balance.
    let in_flight: i128 = transfers
        .iter()
        .filter(|t| !outcomes.contains_key(&t.id))
        .map(|t| i128::from(t.amount))
        .sum();
    let conserved = if total + in_flight == inflow {
        vec![]
    } else {
        vec![format!(
            "balances sum to {total} with {in_flight} in flight; deposits minus withdrawals are {inflow}"
        )]
    };
    checks.push(check(
        "money_conserved",
        &conserved,
        format!("balances sum to {total} (+{in_flight} in flight) = deposits - withdrawals"),
    ));
    checks.push(check(
        "history_counts",
        &history_problems,
        "every history has one entry per event".to_owned(),
    ));

    let mut audit_problems = Vec::new();
    let deadline = Instant::now() + limit;
    for (id, want) in &expected {
        loop {
            let recorded = patiently(patience, || audit_events(client, id)).await?;
            if recorded >= want.events {
                if recorded > want.events {
                    audit_problems.push(format!(
                        "{id}: {recorded} events audited, expected {}",
                        want.events
                    ));
                }
                break;
            }
            if Instant::now() >= deadline {
                audit_problems.push(format!(
                    "{id}: {recorded} events audited, expected {}",
                    want.events
                ));
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let verified = patiently(patience, || client.get(Service::AuditLog, "/audit/verify")).await?;
    if verified["ok"] != true {
        audit_problems.push(format!("audit verify: {}", verified["broken"]));
    }
    let reconciled = patiently(patience, || {
        client.get(Service::AuditLog, "/audit/reconcile")
    })
    .await?;
    if reconciled["ok"] != true {
        audit_problems.push(format!(
            "audit reconcile: {} mismatches",
            reconciled["mismatch_count"]
        ));
    }
    checks.push(check(
        "audit",
        &audit_problems,
        "every event audited, chains verify, balances reconcile".to_owned(),
    ));

    Ok(Report {
        ok: checks.iter().all(|c| c.ok),
        checks,
    })
}

/// The account's view once it has reached `version` (each read waits at
/// most the projector's read wait; asked again until `limit`), or the last
/// view if it never does.
async fn caught_up(
    client: &Client,
    account: &str,
    version: u64,
    limit: Duration,
) -> Result<Value, CliError> {
    let deadline = Instant::now() + limit;
    loop {
        let path = format!("/accounts/{account}?min_version={version}");
        let view = client.get(Service::BalanceProjector, &path).await?;
        if view["version"].as_u64().unwrap_or(0) >= version || Instant::now() >= deadline {
            return Ok(view);
        }
    }
}

/// `call`, made again while the service it asks is unreachable or failing
/// (restarting, say) until `deadline`; then its answer, whatever it is.
async fn patiently<T, F, Fut>(deadline: Instant, mut call: F) -> Result<T, CliError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CliError>>,
{
    loop {
        match call().await {
            Err(err @ CliError::Unavailable { .. })
                if !is_timeout(&err) && Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            other => return other,
        }
    }
}

fn is_timeout(err: &CliError) -> bool {
    matches!(err, CliError::Unavailable { reason, .. } if reason.contains("did not end within"))
}

async fn history_len(client: &Client, account: &str) -> Result<u64, CliError> {
    let mut count = 0;
    let mut before = String::new();
    loop {
        let page = client
            .get(
                Service::BalanceProjector,
                &format!("/accounts/{account}/transactions?limit=1000{before}"),
            )
            .await?;
        count += page["transactions"].as_array().map_or(0, Vec::len);
        match page["next_before"].as_u64() {
            Some(next) => before = format!("&before={next}"),
            None => return Ok(u64::try_from(count).unwrap_or(u64::MAX)),
        }
    }
}

/// Events (records with a sequence: not rejections) in `account`'s audit stream.
async fn audit_events(client: &Client, account: &str) -> Result<u64, CliError> {
    let mut count = 0u64;
    let mut after = String::new();
    loop {
        let page: Value = match client
            .get(
                Service::AuditLog,
                &format!("/audit/streams/{account}?limit=1000{after}"),
            )
            .await
        {
            Ok(page) => page,
            // Nothing recorded yet.
            Err(CliError::Rejected { status: 404, .. }) => return Ok(0),
            Err(err) => return Err(err),
        };
        let records = page["records"].as_array().cloned().unwrap_or_default();
        count +=
            u64::try_from(records.iter().filter(|r| !r["sequence"].is_null()).count()).unwrap_or(0);
        match page["next_after"].as_u64() {
            Some(next) if !records.is_empty() => after = format!("&after={next}"),
            _ => return Ok(count),
        }
    }
}
