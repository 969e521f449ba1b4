//! `eventbank demo`: the first thing to run once the system is up. It opens
//! accounts, moves money, has a withdrawal rejected, runs a transfer that
//! completes and one that fails and is refunded (to a closed account), then
//! shows balances, history, the cross-account query and the audit checks,
//! saying what each step shows. With `--json` it prints one document with
//! every id and outcome instead of the narration.

use std::time::Duration;

use serde_json::{Value, json};

use crate::cli::DemoArgs;
use crate::client::new_key;
use crate::commands::{Ctx, account, audit, query, transfer};
use crate::exit::{CliError, FAILURE, SUCCESS};
use crate::output::{Table, cell};

fn step(ctx: &Ctx, n: u32, text: &str) {
    ctx.out.note(&format!("\n== {n}. {text}"));
}

pub async fn run(ctx: &Ctx, args: &DemoArgs) -> Result<u8, CliError> {
    let out = &ctx.out;
    let currency = args.currency.as_str();
    let wait = Duration::from_secs(ctx.client.config().timeout_secs.max(30));
    // With --idempotency-key K every step's key derives from K, so running
    // the demo again with K replays it without applying anything twice.
    let key = |step: &str| {
        ctx.key
            .as_ref()
            .map_or_else(new_key, |key| format!("{key}:{step}"))
    };

    step(
        ctx,
        1,
        "Open three accounts. Each is a stream of events on Kafka; opening appends its first.",
    );
    let ann = account::open_account(ctx, "Ann", currency, &key("open-ann")).await?;
    let bob = account::open_account(ctx, "Bob", currency, &key("open-bob")).await?;
    let carol = account::open_account(ctx, "Carol", currency, &key("open-carol")).await?;
    let id = |v: &Value| v["account_id"].as_str().unwrap_or_default().to_owned();
    let (ann_id, bob_id, carol_id) = (id(&ann), id(&bob), id(&carol));
    out.note(&format!("Ann   {ann_id}\nBob   {bob_id}\nCarol {carol_id}"));

    step(
        ctx,
        2,
        "Deposit 10000 (cents) for Ann, withdraw 2500. Each answer carries the new version.",
    );
    let deposit = account::move_money(ctx, &ann_id, "deposits", 10_000, &key("deposit")).await?;
    let withdrawal =
        account::move_money(ctx, &ann_id, "withdrawals", 2_500, &key("withdraw")).await?;
    out.note(&format!(
        "deposit:    balance {} (version {})\nwithdrawal: balance {} (version {})",
        deposit["balance"], deposit["version"], withdrawal["balance"], withdrawal["version"]
    ));

    step(
        ctx,
        3,
        "Bob withdraws 500 from an empty account: the account's single writer refuses it.",
    );
    let refused =
        match account::move_money(ctx, &bob_id, "withdrawals", 500, &key("overdraft")).await {
            Err(err @ CliError::Rejected { .. }) => {
                out.note(&format!("refused as expected: {err}"));
                json!(err.code())
            }
            Err(err) => return Err(err),
            Ok(body) => {
                return Err(CliError::Other(format!(
                    "the bank accepted an overdraft: {body}"
                )));
            }
        };

    step(
        ctx,
        4,
        "Transfer 3000 from Ann to Bob: a saga debits Ann, then credits Bob.",
    );
    let done = transfer::send(ctx, &ann_id, &bob_id, 3_000, &key("transfer")).await?;
    let done_id = done["transfer_id"].as_str().unwrap_or_default().to_owned();
    let done_view = transfer::wait_terminal(&ctx.client, &done_id, wait).await?;
    out.note(&format!(
        "transfer {done_id}: {}",
        cell(&done_view["status"])
    ));

    step(
        ctx,
        5,
        "Close Carol's empty account, then transfer 1000 to it: Ann is debited, the credit is refused, the saga refunds Ann.",
    );
    ctx.client
        .command(
            &format!("/accounts/{carol_id}/close"),
            None,
            &key("close-carol"),
        )
        .await?;
    let failed = transfer::send(ctx, &ann_id, &carol_id, 1_000, &key("transfer-to-closed")).await?;
    let failed_id = failed["transfer_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let failed_view = transfer::wait_terminal(&ctx.client, &failed_id, wait).await?;
    out.note(&format!(
        "transfer {failed_id}: {} ({}), the 1000 is back with Ann",
        cell(&failed_view["status"]),
        cell(&failed_view["reason"])
    ));

    step(
        ctx,
        6,
        "Balances, from the read model (balance-projector), read-your-writes.",
    );
    // The refund is the event after the failed transfer's debit.
    let ann_version = failed["version"].as_u64().unwrap_or(0) + 1;
    let mut balances = Table::new(&["holder", "status", "balance", "version"]);
    let mut views = Vec::new();
    for (account, min) in [
        (&ann_id, Some(ann_version)),
        (&bob_id, Some(2)),
        (&carol_id, Some(2)),
    ] {
        let view = account::view(ctx, account, min).await?;
        balances.row(vec![
            cell(&view["holder"]),
            cell(&view["status"]),
            cell(&view["balance"]),
            cell(&view["version"]),
        ]);
        views.push(view);
    }
    out.note(&balances.render());

    step(
        ctx,
        7,
        "Ann's history: every event, newest first (the refund, its debit, the transfer out, ...).",
    );
    let history = query::whole_history(ctx, &ann_id).await?;
    let mut table = Table::new(&["seq", "type", "amount", "balance_after"]);
    for entry in &history {
        table.row(vec![
            cell(&entry["sequence"]),
            cell(&entry["type"]),
            cell(&entry["amount"]),
            cell(&entry["balance_after"]),
        ]);
    }
    out.note(&table.render());

    step(
        ctx,
        8,
        "The cross-account query CQRS makes cheap: open accounts holding at least 1000.",
    );
    let rich = ctx
        .client
        .get(
            crate::client::Service::BalanceProjector,
            "/accounts?min_balance=1000&status=open&limit=10",
        )
        .await?;
    out.note(&query::accounts_table(&rich["accounts"]));

    step(
        ctx,
        9,
        "The audit trail: hash chains recomputed, balances reconciled from the events.",
    );
    wait_audited(ctx, &ann_id, history.len(), wait).await?;
    let verified = audit::verify_report(ctx, None).await?;
    let reconciled = audit::reconcile_report(ctx, None).await?;
    out.note(&audit::verify_text(&verified));
    out.note(&audit::reconcile_text(&reconciled));
    let ok = verified["ok"] == true && reconciled["ok"] == true;
    out.note(&format!(
        "\nDone. Try: eventbank history {ann_id} · eventbank audit show {ann_id} · eventbank shell"
    ));

    let summary = json!({
        "accounts": { "ann": ann_id, "bob": bob_id, "carol": carol_id },
        "refused_withdrawal": refused,
        "transfers": { "completed": done_view, "failed": failed_view },
        "balances": views,
        "history_entries": history.len(),
        "audit": { "verify": verified, "reconcile": reconciled },
        "ok": ok,
    });
    if out.json {
        out.emit(&summary, String::new);
    }
    Ok(if ok { SUCCESS } else { FAILURE })
}

/// Waits until audit-log has recorded `events` of `account`'s events.
async fn wait_audited(
    ctx: &Ctx,
    account: &str,
    events: usize,
    limit: Duration,
) -> Result<(), CliError> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let path = format!("/audit/streams/{account}?limit=1000");
        let recorded = match ctx
            .client
            .get(crate::client::Service::AuditLog, &path)
            .await
        {
            Ok(page) => page["records"]
                .as_array()
                .map_or(0, |r| r.iter().filter(|r| !r["sequence"].is_null()).count()),
            Err(CliError::Rejected { status: 404, .. }) => 0,
            Err(err) => return Err(err),
        };
        if recorded >= events || std::time::Instant::now() >= deadline {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
