//! `audit show|verify|reconcile|export`: audit-log's hash-chained trail.
//! `verify` and `reconcile` exit 1 when they find a problem, so a script or
//! a cron job can act on it.

use std::io::Write;

use serde_json::Value;

use super::{Ctx, uuid_arg};
use crate::cli::{AuditCommand, ExportFormat};
use crate::client::Service;
use crate::exit::{CliError, FAILURE, SUCCESS};
use crate::output::{Table, cell};

pub async fn run(ctx: &Ctx, command: AuditCommand) -> Result<u8, CliError> {
    match command {
        AuditCommand::Show {
            stream,
            after,
            limit,
        } => show(ctx, &stream, after, limit).await,
        AuditCommand::Verify { stream } => verify(ctx, stream.as_deref()).await,
        AuditCommand::Reconcile { limit } => reconcile(ctx, limit).await,
        AuditCommand::Export {
            stream,
            format,
            output,
        } => export(ctx, &stream, format, output.as_deref()).await,
    }
}

async fn show(ctx: &Ctx, stream: &str, after: Option<u64>, limit: u32) -> Result<u8, CliError> {
    let stream = uuid_arg("STREAM", stream)?;
    let after = after.map(|a| format!("&after={a}")).unwrap_or_default();
    let body = ctx
        .client
        .get(
            Service::AuditLog,
            &format!("/audit/streams/{stream}?limit={limit}{after}"),
        )
        .await?;
    ctx.out.emit(&body, || {
        let mut table = Table::new(&["pos", "seq", "type", "recorded_at", "hash"]);
        for record in body["records"].as_array().into_iter().flatten() {
            let hash = cell(&record["hash"]);
            table.row(vec![
                cell(&record["position"]),
                cell(&record["sequence"]),
                cell(&record["type"]),
                cell(&record["recorded_at"]),
                format!("{}…", hash.chars().take(16).collect::<String>()),
            ]);
        }
        let mut text = table.render();
        if let Some(next) = body["next_after"].as_u64() {
            text.push_str(&format!("\n(more: --after {next})"));
        }
        text
    });
    Ok(SUCCESS)
}

/// `GET /audit/verify` (of one stream if given).
pub async fn verify_report(ctx: &Ctx, stream: Option<&str>) -> Result<Value, CliError> {
    let query = match stream {
        Some(stream) => format!("?stream={}", uuid_arg("--stream", stream)?),
        None => String::new(),
    };
    ctx.client
        .get(Service::AuditLog, &format!("/audit/verify{query}"))
        .await
}

/// One line saying what a verify report found.
pub fn verify_text(report: &Value) -> String {
    let mut text = if report["ok"] == true {
        format!(
            "Audit trail intact: {} records in {} streams verified.",
            report["records_checked"], report["streams_checked"]
        )
    } else {
        let broken = &report["broken"];
        format!(
            "Audit trail BROKEN: stream {} position {}: {}.",
            cell(&broken["stream_id"]),
            cell(&broken["position"]),
            cell(&broken["problem"])
        )
    };
    if report["complete"] == false {
        text.push_str(" Incomplete: retention deleted records before audit-log read them (see retention_gaps).");
    }
    text
}

async fn verify(ctx: &Ctx, stream: Option<&str>) -> Result<u8, CliError> {
    let report = verify_report(ctx, stream).await?;
    ctx.out.emit(&report, || verify_text(&report));
    Ok(if report["ok"] == true {
        SUCCESS
    } else {
        FAILURE
    })
}

/// `GET /audit/reconcile`.
pub async fn reconcile_report(ctx: &Ctx, limit: Option<u32>) -> Result<Value, CliError> {
    let query = limit.map(|l| format!("?limit={l}")).unwrap_or_default();
    ctx.client
        .get(Service::AuditLog, &format!("/audit/reconcile{query}"))
        .await
}

pub fn reconcile_text(report: &Value) -> String {
    if report["ok"] == true {
        return format!(
            "Balances reconcile: {} accounts, {} events, no mismatch.",
            report["accounts_checked"], report["events_checked"]
        );
    }
    let mut table = Table::new(&["stream", "seq", "type", "expected", "recorded"]);
    for m in report["mismatches"].as_array().into_iter().flatten() {
        table.row(vec![
            cell(&m["stream_id"]),
            cell(&m["sequence"]),
            cell(&m["type"]),
            cell(&m["expected"]),
            cell(&m["recorded"]),
        ]);
    }
    format!(
        "{} MISMATCHES:\n{}",
        report["mismatch_count"],
        table.render()
    )
}

async fn reconcile(ctx: &Ctx, limit: Option<u32>) -> Result<u8, CliError> {
    let report = reconcile_report(ctx, limit).await?;
    ctx.out.emit(&report, || reconcile_text(&report));
    Ok(if report["ok"] == true {
        SUCCESS
    } else {
        FAILURE
    })
}

/// Every page of the stream in `format`, to `output` or stdout. CSV pages
/// after the first repeat the header line, which is dropped.
async fn export(
    ctx: &Ctx,
    stream: &str,
    format: ExportFormat,
    output: Option<&std::path::Path>,
) -> Result<u8, CliError> {
    let stream = uuid_arg("STREAM", stream)?;
    let format = match format {
        ExportFormat::Csv => "csv",
        ExportFormat::Jsonl => "jsonl",
    };
    let mut text = String::new();
    let mut after: Option<String> = None;
    loop {
        let from = after
            .as_ref()
            .map(|a| format!("&after={a}"))
            .unwrap_or_default();
        let path = format!("/audit/streams/{stream}?format={format}&limit=100000{from}");
        let (page, next) = ctx.client.get_text(Service::AuditLog, &path).await?;
        if after.is_some() && format == "csv" {
            text.push_str(page.split_once('\n').map(|(_, rest)| rest).unwrap_or(""));
        } else {
            text.push_str(&page);
        }
        match next {
            Some(next) if !next.is_empty() => after = Some(next),
            _ => break,
        }
    }
    match output {
        Some(path) => {
            std::fs::write(path, &text).map_err(|err| {
                CliError::Other(format!("cannot write {}: {err}", path.display()))
            })?;
            let lines = text.lines().count();
            ctx.out.emit(
                &serde_json::json!({ "stream_id": stream, "format": format, "path": path.display().to_string(), "lines": lines }),
                || format!("Exported {lines} lines of {stream} to {}.", path.display()),
            );
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .map_err(|err| CliError::Other(format!("cannot write the export: {err}")))?;
        }
    }
    Ok(SUCCESS)
}
