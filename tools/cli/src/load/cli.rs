//! `eventbank load`: opens `--accounts` accounts (each with an initial
//! deposit), runs the bank [mix](super::workload) through the
//! [engine](super::engine) with a progress bar, prints ops/s, latency
//! percentiles, rejections and errors, and with `--verify` checks the
//! invariants against the [ledger](super::ledger) (exit 1 if one fails).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use super::engine::{self, LoadConfig, Rate};
use super::ledger::{Ledger, Op};
use super::verify;
use super::workload::{BankMix, Mix, send};
use crate::client::new_key;
use crate::commands::Ctx;
use crate::exit::{CliError, SUCCESS};

#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    /// Accounts to open and spread the load over.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub accounts: u32,
    /// Deposited into each account before the run (minor units).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(i64).range(0..))]
    pub initial_balance: i64,
    /// Requests per second, or `max` (each client sends as soon as it has its answer).
    #[arg(long, default_value = "max", value_parser = parse_rate)]
    pub rate: Rate,
    /// Operation weights: deposit, withdraw, transfer (between the run's
    /// accounts), refunded (to an account that does not exist: refunded).
    #[arg(long, default_value = "deposit=50,withdraw=25,transfer=20,refunded=5")]
    pub mix: Mix,
    /// How long to run (`30s`, `2m`, `500ms`); default 10s unless --requests.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Stop after this many requests.
    #[arg(long)]
    pub requests: Option<u64>,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub concurrency: u64,
    /// Check the bank's invariants at the end (exit 1 if one fails).
    #[arg(long)]
    pub verify: bool,
    /// Longest wait for transfers, the read model and the audit trail when verifying.
    #[arg(long, default_value = "120s", value_parser = parse_duration)]
    pub verify_timeout: Duration,
    #[arg(long, default_value = "EUR")]
    pub currency: String,
}

fn parse_rate(text: &str) -> Result<Rate, String> {
    if text == "max" {
        return Ok(Rate::Max);
    }
    match text.parse::<u64>() {
        Ok(rate) if rate > 0 => Ok(Rate::PerSecond(rate)),
        _ => Err(format!(
            "{text:?} is neither `max` nor a rate of at least 1 per second"
        )),
    }
}

/// `500ms`, `30s`, `2m`, or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text, "s"), |at| text.split_at(at));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 30s, 2m or 500ms"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n.saturating_mul(60))),
        _ => Err(format!("{text:?} is not a duration like 30s, 2m or 500ms")),
    }
}

/// Opens the run's accounts, each with its initial deposit.
async fn open_accounts(
    ctx: &Ctx,
    args: &LoadArgs,
    ledger: &Ledger,
) -> Result<Vec<String>, CliError> {
    let mut accounts = Vec::new();
    for n in 0..args.accounts {
        let op = Op::Open {
            holder: format!("load-{n}"),
            currency: args.currency.clone(),
        };
        let body = crate::commands::account::open_account(
            ctx,
            &format!("load-{n}"),
            &args.currency,
            &new_key(),
        )
        .await?;
        ledger.acknowledged(&op, &body);
        let id = body["account_id"].as_str().unwrap_or_default().to_owned();
        if args.initial_balance > 0 {
            let deposit = Op::Deposit {
                account: id.clone(),
                amount: args.initial_balance,
            };
            send(&ctx.client, ledger, &deposit, &new_key()).await?;
        }
        accounts.push(id);
    }
    Ok(accounts)
}

fn progress(ctx: &Ctx, requests: Option<u64>) -> ProgressBar {
    if ctx.out.json {
        return ProgressBar::hidden();
    }
    let (bar, template) = match requests {
        Some(n) => (
            ProgressBar::new(n),
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} ops ({per_sec})",
        ),
        None => (
            ProgressBar::no_length(),
            "{spinner} [{elapsed_precise}] {pos} ops ({per_sec})",
        ),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

pub async fn run(ctx: &Ctx, args: &LoadArgs) -> Result<u8, CliError> {
    if args.mix.has_transfers() && args.accounts < 2 {
        return Err(CliError::Usage(
            "transfers need at least 2 accounts (--accounts)".to_owned(),
        ));
    }
    let ledger = Arc::new(Ledger::new());
    ctx.out
        .note(&format!("Opening {} accounts...", args.accounts));
    let accounts = open_accounts(ctx, args, &ledger).await?;
    let account_ids = accounts.clone();
    let workload = Arc::new(BankMix::new(
        ctx.client.clone(),
        accounts,
        args.mix,
        ledger.clone(),
    ));
    let clients = usize::try_from(args.concurrency).unwrap_or(1);
    let mut config = LoadConfig::new(clients, args.rate);
    config.requests = args.requests;
    config.duration = args
        .duration
        .or(args.requests.is_none().then(|| Duration::from_secs(10)));
    let bar = progress(ctx, args.requests);
    let report = engine::run(workload.clone(), &config, Some(bar.clone()))
        .await
        .map_err(|err| CliError::Other(err.to_string()))?;
    bar.finish_and_clear();

    let latency = report.latency();
    let rejected = workload.rejected.load(Ordering::Relaxed);
    let mut summary = json!({
        "accounts": args.accounts,
        "account_ids": account_ids,
        "clients": clients,
        "rate": match args.rate { Rate::Max => json!("max"), Rate::PerSecond(n) => json!(n) },
        "ops": report.calls(),
        "ok": report.ok,
        "rejected": rejected,
        "errors": report.errors,
        "transfers": workload.transfers.load(Ordering::Relaxed),
        "elapsed_ms": u64::try_from(report.elapsed.as_millis()).unwrap_or(u64::MAX),
        "ops_per_second": engine::per_second(report.calls(), report.elapsed),
        "latency_us": latency,
        "verify": Value::Null,
    });
    let mut code = SUCCESS;
    if args.verify {
        ctx.out.note(&summary_text(&summary));
        ctx.out.note("Verifying the bank's invariants...");
        let verdict = verify::verify(&ctx.client, &ledger, args.verify_timeout).await?;
        if !verdict.ok {
            code = crate::exit::FAILURE;
        }
        summary["verify"] = serde_json::to_value(&verdict).unwrap_or(Value::Null);
        ctx.out.emit(&summary, || verify_text(&verdict));
    } else {
        ctx.out.emit(&summary, || summary_text(&summary));
    }
    Ok(code)
}

fn summary_text(s: &Value) -> String {
    let l = &s["latency_us"];
    let errors = s["errors"]
        .as_object()
        .filter(|e| !e.is_empty())
        .map(|e| {
            e.iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_else(|| "none".to_owned());
    format!(
        "{} ops in {} ms: {} ops/s; {} ok ({} rejected by the bank), errors: {errors}\n\
         latency p50 {} µs, p95 {} µs, p99 {} µs, max {} µs; {} transfers sent",
        s["ops"],
        s["elapsed_ms"],
        s["ops_per_second"],
        s["ok"],
        s["rejected"],
        l["p50_us"],
        l["p95_us"],
        l["p99_us"],
        l["max_us"],
        s["transfers"]
    )
}

fn verify_text(report: &verify::Report) -> String {
    let mut lines: Vec<String> = report
        .checks
        .iter()
        .map(|c| {
            format!(
                "{} {:<17} {}",
                if c.ok { "ok  " } else { "FAIL" },
                c.name,
                c.detail
            )
        })
        .collect();
    lines.push(if report.ok {
        "All invariants hold.".to_owned()
    } else {
        "INVARIANTS BROKEN.".to_owned()
    });
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_rates_parse() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("7h").is_err());
        assert!(parse_duration("soon").is_err());
        assert_eq!(parse_rate("max"), Ok(Rate::Max));
        assert_eq!(parse_rate("250"), Ok(Rate::PerSecond(250)));
        assert!(parse_rate("0").is_err());
    }
}
