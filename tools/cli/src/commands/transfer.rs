//! `transfer FROM TO AMOUNT [--wait]` and `transfer show ID [--wait]`: the
//! debit through account-command, the transfer's status from
//! balance-projector (pending until the saga has credited or refunded it).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Ctx, uuid_arg};
use crate::client::{Client, Service};
use crate::exit::{CliError, SUCCESS};

/// Sends the transfer (its debit); the answer has `transfer_id`.
pub async fn send(
    ctx: &Ctx,
    from: &str,
    to: &str,
    amount: i64,
    key: &str,
) -> Result<Value, CliError> {
    let body = json!({
        "from": uuid_arg("FROM", from)?,
        "to": uuid_arg("TO", to)?,
        "amount": amount,
    });
    let reply = ctx.client.command("/transfers", Some(&body), key).await?;
    let mut answer = reply.body;
    answer["idempotency_key"] = json!(key);
    Ok(answer)
}

/// Polls the view until transfer `id` is `completed` or `failed`.
pub async fn wait_terminal(client: &Client, id: &str, limit: Duration) -> Result<Value, CliError> {
    let deadline = Instant::now() + limit;
    loop {
        match client
            .get(Service::BalanceProjector, &format!("/transfers/{id}"))
            .await
        {
            Ok(view) if view["status"] == "completed" || view["status"] == "failed" => {
                return Ok(view);
            }
            Ok(_) => {}
            // Not projected yet.
            Err(CliError::Rejected { ref code, .. }) if code == "transfer_not_found" => {}
            Err(err) => return Err(err),
        }
        if Instant::now() >= deadline {
            return Err(CliError::Unavailable {
                service: Service::TransferSaga.name(),
                url: client.base(Service::TransferSaga).to_owned(),
                reason: format!("transfer {id} did not end within {}s", limit.as_secs()),
                hint: "; `eventbank transfer show ID --wait` waits again".to_owned(),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn wait_limit(ctx: &Ctx) -> Duration {
    Duration::from_secs(ctx.client.config().timeout_secs.max(1))
}

pub async fn create(
    ctx: &Ctx,
    from: &str,
    to: &str,
    amount: i64,
    wait: bool,
) -> Result<u8, CliError> {
    let mut body = send(ctx, from, to, amount, &ctx.key()).await?;
    let id = body["transfer_id"].as_str().unwrap_or_default().to_owned();
    if wait {
        let view = wait_terminal(&ctx.client, &id, wait_limit(ctx)).await?;
        body["status"] = view["status"].clone();
        body["reason"] = view.get("reason").cloned().unwrap_or(Value::Null);
    }
    ctx.out.emit(&body, || {
        let mut text = format!("Transfer {id}: {amount} from {from} to {to}; ");
        text.push_str(&status_text(&body));
        text
    });
    if wait && body["status"] == "failed" {
        // The money came back, but the bank refused the transfer.
        return Err(CliError::Rejected {
            service: Service::TransferSaga.name(),
            status: 422,
            code: body["reason"]
                .as_str()
                .unwrap_or("transfer_failed")
                .to_owned(),
            message: format!("transfer {id} failed and its amount was refunded to {from}"),
        });
    }
    Ok(SUCCESS)
}

fn status_text(view: &Value) -> String {
    match view["status"].as_str() {
        Some("completed") => "completed.".to_owned(),
        Some("failed") => format!(
            "failed ({}), refunded.",
            view["reason"].as_str().unwrap_or("no reason given")
        ),
        Some(other) => {
            format!("{other} (debited; `--wait` or `transfer show ID --wait` follows it).")
        }
        None => "status unknown.".to_owned(),
    }
}

pub async fn show(ctx: &Ctx, transfer: &str, wait: bool) -> Result<u8, CliError> {
    let id = uuid_arg("TRANSFER", transfer)?;
    let view = if wait {
        wait_terminal(&ctx.client, &id, wait_limit(ctx)).await?
    } else {
        ctx.client
            .get(Service::BalanceProjector, &format!("/transfers/{id}"))
            .await?
    };
    ctx.out.emit(&view, || {
        let mut text = crate::output::fields(
            &view,
            &[
                "transfer_id",
                "status",
                "reason",
                "from",
                "to",
                "amount",
                "currency",
            ],
        );
        text.push('\n');
        text
    });
    Ok(SUCCESS)
}
