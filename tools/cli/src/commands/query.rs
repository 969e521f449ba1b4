//! `history` (an account's transactions, paged) and `accounts` (the
//! cross-account query), both from balance-projector.

use serde_json::{Value, json};

use super::{Ctx, uuid_arg};
use crate::cli::{AccountStatus, AccountsArgs, HistoryArgs};
use crate::client::Service;
use crate::exit::{CliError, SUCCESS};
use crate::output::{Table, cell};

/// One page of `account`'s history: `{account_id, transactions, next_before}`.
pub async fn history_page(
    ctx: &Ctx,
    account: &str,
    limit: u32,
    before: Option<u64>,
) -> Result<Value, CliError> {
    let before = before.map(|b| format!("&before={b}")).unwrap_or_default();
    ctx.client
        .get(
            Service::BalanceProjector,
            &format!("/accounts/{account}/transactions?limit={limit}{before}"),
        )
        .await
}

/// Every entry of `account`'s history, newest first.
pub async fn whole_history(ctx: &Ctx, account: &str) -> Result<Vec<Value>, CliError> {
    let mut all = Vec::new();
    let mut before = None;
    loop {
        let page = history_page(ctx, account, 1000, before).await?;
        all.extend(page["transactions"].as_array().cloned().unwrap_or_default());
        match page["next_before"].as_u64() {
            Some(next) => before = Some(next),
            None => return Ok(all),
        }
    }
}

pub async fn history(ctx: &Ctx, args: &HistoryArgs) -> Result<u8, CliError> {
    let account = uuid_arg("ACCOUNT", &args.account)?;
    let body = if args.all {
        let transactions = whole_history(ctx, &account).await?;
        json!({ "account_id": account, "transactions": transactions, "next_before": null })
    } else {
        history_page(ctx, &account, args.limit, args.before).await?
    };
    ctx.out.emit(&body, || {
        let mut table = Table::new(&[
            "seq",
            "type",
            "amount",
            "balance_after",
            "transfer",
            "occurred_at",
        ]);
        for entry in body["transactions"].as_array().into_iter().flatten() {
            table.row(vec![
                cell(&entry["sequence"]),
                cell(&entry["type"]),
                cell(&entry["amount"]),
                cell(&entry["balance_after"]),
                cell(&entry["transfer_id"]),
                cell(&entry["occurred_at"]),
            ]);
        }
        let mut text = table.render();
        if let Some(next) = body["next_before"].as_u64() {
            text.push_str(&format!("\n(more: --before {next})"));
        }
        text
    });
    Ok(SUCCESS)
}

pub async fn accounts(ctx: &Ctx, args: &AccountsArgs) -> Result<u8, CliError> {
    let mut query = format!("?limit={}", args.limit);
    if let Some(min) = args.min_balance {
        query.push_str(&format!("&min_balance={min}"));
    }
    if let Some(status) = args.status {
        query.push_str(match status {
            AccountStatus::Open => "&status=open",
            AccountStatus::Closed => "&status=closed",
        });
    }
    let body = ctx
        .client
        .get(Service::BalanceProjector, &format!("/accounts{query}"))
        .await?;
    ctx.out.emit(&body, || accounts_table(&body["accounts"]));
    Ok(SUCCESS)
}

/// The `accounts` table (also shown by the demo).
pub fn accounts_table(accounts: &Value) -> String {
    let mut table = Table::new(&[
        "account", "holder", "currency", "status", "balance", "version",
    ]);
    for account in accounts.as_array().into_iter().flatten() {
        table.row(vec![
            cell(&account["account_id"]),
            cell(&account["holder"]),
            cell(&account["currency"]),
            cell(&account["status"]),
            cell(&account["balance"]),
            cell(&account["version"]),
        ]);
    }
    table.render()
}
