//! `account open|show|close`, `deposit`, `withdraw`: account-command's writes
//! and balance-projector's account view.

use serde_json::{Value, json};

use super::{Ctx, uuid_arg};
use crate::client::Service;
use crate::exit::{CliError, SUCCESS};
use crate::output::fields;

/// The JSON of a write's answer, with the key it was sent with.
fn answer(mut body: Value, key: &str) -> Value {
    body["idempotency_key"] = json!(key);
    body
}

/// Opens an account; returns the answer (`account_id`, `version`, ...).
pub async fn open_account(
    ctx: &Ctx,
    holder: &str,
    currency: &str,
    key: &str,
) -> Result<Value, CliError> {
    let body = json!({ "holder": holder, "currency": currency });
    let reply = ctx.client.command("/accounts", Some(&body), key).await?;
    Ok(answer(reply.body, key))
}

pub async fn open(ctx: &Ctx, holder: &str, currency: &str) -> Result<u8, CliError> {
    let key = ctx.key();
    let body = open_account(ctx, holder, currency, &key).await?;
    ctx.out.emit(&body, || {
        format!(
            "Opened account {} for {} ({}).",
            body["account_id"].as_str().unwrap_or("?"),
            body["holder"].as_str().unwrap_or(holder),
            body["currency"].as_str().unwrap_or(currency),
        )
    });
    Ok(SUCCESS)
}

/// A deposit or withdrawal (`kind`: `deposits` or `withdrawals`).
pub async fn move_money(
    ctx: &Ctx,
    account: &str,
    kind: &str,
    amount: i64,
    key: &str,
) -> Result<Value, CliError> {
    let account = uuid_arg("ACCOUNT", account)?;
    let reply = ctx
        .client
        .command(
            &format!("/accounts/{account}/{kind}"),
            Some(&json!({ "amount": amount })),
            key,
        )
        .await?;
    Ok(answer(reply.body, key))
}

pub async fn deposit(ctx: &Ctx, account: &str, amount: i64) -> Result<u8, CliError> {
    let body = move_money(ctx, account, "deposits", amount, &ctx.key()).await?;
    ctx.out
        .emit(&body, || describe("Deposited", "into", amount, &body));
    Ok(SUCCESS)
}

pub async fn withdraw(ctx: &Ctx, account: &str, amount: i64) -> Result<u8, CliError> {
    let body = move_money(ctx, account, "withdrawals", amount, &ctx.key()).await?;
    ctx.out
        .emit(&body, || describe("Withdrew", "from", amount, &body));
    Ok(SUCCESS)
}

fn describe(verb: &str, preposition: &str, amount: i64, body: &Value) -> String {
    format!(
        "{verb} {amount} {preposition} {}: balance {} (version {}).",
        body["account_id"].as_str().unwrap_or("?"),
        body["balance"],
        body["version"],
    )
}

/// The read model's view of `account`, waiting for `min_version` if given.
pub async fn view(ctx: &Ctx, account: &str, min_version: Option<u64>) -> Result<Value, CliError> {
    let account = uuid_arg("ACCOUNT", account)?;
    let query = min_version
        .map(|v| format!("?min_version={v}"))
        .unwrap_or_default();
    ctx.client
        .get(
            Service::BalanceProjector,
            &format!("/accounts/{account}{query}"),
        )
        .await
}

pub async fn show(ctx: &Ctx, account: &str, min_version: Option<u64>) -> Result<u8, CliError> {
    let body = view(ctx, account, min_version).await?;
    ctx.out.emit(&body, || {
        fields(
            &body,
            &[
                "account_id",
                "holder",
                "currency",
                "status",
                "balance",
                "version",
                "opened_at",
                "updated_at",
                "behind",
            ],
        )
    });
    Ok(SUCCESS)
}

pub async fn close(ctx: &Ctx, account: &str) -> Result<u8, CliError> {
    let id = uuid_arg("ACCOUNT", account)?;
    let key = ctx.key();
    let reply = ctx
        .client
        .command(&format!("/accounts/{id}/close"), None, &key)
        .await?;
    let body = answer(reply.body, &key);
    ctx.out.emit(&body, || {
        format!("Closed account {id} (version {}).", body["version"])
    });
    Ok(SUCCESS)
}
