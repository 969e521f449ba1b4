//! `status` (health, readiness and consumer lag of every service in one
//! table) and `topics` (the topic layout, from the services' `/topics`).
//! Both read only the services' ops endpoints: the CLI never talks to Kafka.

use serde_json::{Value, json};

use super::Ctx;
use crate::client::Service;
use crate::exit::{CliError, FAILURE, SUCCESS};
use crate::output::{Table, cell};

/// The sum of every sample of the `*_lag` gauges on a `/metrics` page
/// (`eventbank_txn_lag`, `eventbank_projector_lag`, `eventbank_audit_lag`),
/// or `None` if the page has none yet (measured every few seconds).
pub fn lag_of(metrics: &str) -> Option<u64> {
    let mut total: Option<u64> = None;
    for line in metrics.lines().filter(|line| !line.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let name = series.split('{').next().unwrap_or(series);
        if name.starts_with("eventbank_") && name.ends_with("_lag") {
            // Gauges print as integers or as `12.0`.
            let whole = value.split('.').next().unwrap_or(value);
            if let Ok(lag) = whole.parse::<i64>() {
                *total.get_or_insert(0) += u64::try_from(lag).unwrap_or(0);
            }
        }
    }
    total
}

/// One service's row of `status`.
async fn probe(ctx: &Ctx, service: Service) -> Value {
    let url = ctx.client.base(service).to_owned();
    let healthy = matches!(ctx.client.get_raw(service, "/healthz").await, Ok((200, _)));
    let (ready, checks, error) = match ctx.client.get_raw(service, "/readyz").await {
        Ok((status, body)) => (
            status == 200 && body["ready"] == true,
            body["checks"].clone(),
            Value::Null,
        ),
        Err(err) => (false, Value::Null, json!(err.to_string())),
    };
    let lag = match ctx.client.get_text(service, "/metrics").await {
        Ok((page, _)) => lag_of(&page),
        Err(_) => None,
    };
    json!({
        "service": service.name(),
        "url": url,
        "healthy": healthy,
        "ready": ready,
        "lag": lag,
        "checks": checks,
        "error": error,
    })
}

/// The checks that are not ready, as `name (detail)`.
fn failing(checks: &Value) -> String {
    checks
        .as_object()
        .map(|checks| {
            checks
                .iter()
                .filter(|(_, check)| check["ready"] != true)
                .map(|(name, check)| match check["detail"].as_str() {
                    Some(detail) => format!("{name} ({detail})"),
                    None => name.clone(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

pub async fn status(ctx: &Ctx) -> Result<u8, CliError> {
    let rows = probe_all(ctx).await;
    let all_ready = rows.iter().all(|row| row["ready"] == true);
    let body = json!({ "ok": all_ready, "services": rows });
    ctx.out.emit(&body, || {
        let mut table = Table::new(&["service", "url", "health", "ready", "lag", "detail"]);
        for row in &rows {
            let detail = match row["error"].as_str() {
                Some(error) => error.to_owned(),
                None => failing(&row["checks"]),
            };
            table.row(vec![
                cell(&row["service"]),
                cell(&row["url"]),
                (if row["healthy"] == true { "ok" } else { "DOWN" }).to_owned(),
                (if row["ready"] == true { "yes" } else { "NO" }).to_owned(),
                cell(&row["lag"]),
                detail,
            ]);
        }
        table.render()
    });
    Ok(if all_ready { SUCCESS } else { FAILURE })
}

/// Probes the four services at once (one slow service does not hold up the others).
async fn probe_all(ctx: &Ctx) -> Vec<Value> {
    let [a, b, c, d] = Service::ALL;
    let (a, b, c, d) = tokio::join!(probe(ctx, a), probe(ctx, b), probe(ctx, c), probe(ctx, d));
    vec![a, b, c, d]
}

/// The first service that answers `/topics` (they share one layout).
pub async fn topics_report(ctx: &Ctx) -> Result<(Service, Value), CliError> {
    let mut last = None;
    for service in Service::ALL {
        match ctx.client.get(service, "/topics").await {
            Ok(report) => return Ok((service, report)),
            Err(err) => last = Some(err),
        }
    }
    Err(match last {
        Some(CliError::Rejected { code, .. }) if code == "route_not_found" => CliError::Rejected {
            service: "every service",
            status: 404,
            code,
            message: "no service serves GET /topics: they are older than this CLI".to_owned(),
        },
        Some(err) => err,
        None => CliError::Other("no service to ask".to_owned()),
    })
}

pub async fn topics(ctx: &Ctx) -> Result<u8, CliError> {
    let (service, mut report) = topics_report(ctx).await?;
    report["source"] = json!(service.name());
    ctx.out.emit(&report, || {
        let mut table = Table::new(&["topic", "partitions", "replicas", "cleanup", "retention_ms"]);
        for topic in report["topics"].as_array().into_iter().flatten() {
            let configs = &topic["configs"];
            table.row(vec![
                cell(&topic["name"]),
                cell(&topic["partitions"]),
                cell(&topic["replication_factor"]),
                cell(&configs["cleanup.policy"]),
                cell(&configs["retention.ms"]),
            ]);
        }
        let groups: Vec<String> = report["co_partitioned"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|group| {
                group
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(cell)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .collect();
        format!(
            "{}\n\nCo-partitioned (one partition count each):\n  {}\n(layout as configured in {})",
            table.render(),
            groups.join("\n  "),
            service.name()
        )
    });
    Ok(SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_sums_every_lag_gauge_and_ignores_other_series() {
        let page = "# TYPE eventbank_audit_lag gauge\n\
                    eventbank_audit_lag{topic=\"a\",partition=\"0\"} 3\n\
                    eventbank_audit_lag{topic=\"a\",partition=\"1\"} 4.0\n\
                    eventbank_audit_records_total{topic=\"a\"} 99\n";
        assert_eq!(lag_of(page), Some(7));
        assert_eq!(lag_of("eventbank_build_info{service=\"x\"} 1\n"), None);
    }
}
