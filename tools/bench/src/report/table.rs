//! The table of a run's absolute figures and their ratios to Kafka's own
//! ceiling, rendered as Markdown that reads as plain text too.

use std::fmt::Write as _;

use super::{OfferedRate, Results, mib, ms, percent};
use crate::load::LatencySummary;

impl Results {
    /// The table of absolute figures and ratios to the ceiling.
    pub fn table(&self) -> String {
        let produce = self.ceiling.produce.records_per_sec;
        let consume = self.ceiling.consume.records_per_sec;
        let mut rows: Vec<[String; 4]> = vec![[
            "measure".into(),
            "figure".into(),
            "latency p50 / p95 / p99".into(),
            "vs ceiling".into(),
        ]];
        rows.push([
            format!(
                "ceiling: raw produce (idempotent, acks=all, lz4, {} B values)",
                self.ceiling.event_value_bytes
            ),
            format!("{produce} records/s"),
            String::new(),
            "100%".into(),
        ]);
        rows.push([
            "ceiling: raw consume (read_committed)".into(),
            format!("{consume} records/s"),
            String::new(),
            "100%".into(),
        ]);
        rows.push([
            format!("exactly-once backlog ({} commands)", self.backlog.commands),
            format!(
                "{} commands/s ({} incl. start)",
                self.backlog.per_sec, self.backlog.per_sec_incl_start
            ),
            String::new(),
            format!("{} of produce", percent(self.backlog.per_sec, produce)),
        ]);
        rows.push([
            "account-command start -> /readyz 200 / -> first command answered".into(),
            format!(
                "{} / {}",
                ms(self.startup.ready_ms * 1000),
                ms(self.startup.first_command_ms * 1000)
            ),
            String::new(),
            String::new(),
        ]);
        for level in &self.http {
            let l = &level.latency;
            rows.push([
                format!("HTTP commands, {} clients", level.clients),
                format!("{} commands/s", level.per_sec),
                percentiles(l),
                format!("{} of produce", percent(level.per_sec, produce)),
            ]);
        }
        for level in &self.visible {
            rows.push(level_row(
                "command -> visible",
                &level.offered,
                format!("{} commands/s", level.achieved_per_sec),
                &level.command_to_visible,
            ));
        }
        for level in &self.transfers {
            rows.push(level_row(
                "transfers end to end",
                &level.offered,
                format!("{} transfers/s", level.per_sec),
                &level.end_to_end,
            ));
        }
        rows.push(share_of_consume(
            format!("projector catch-up ({} events)", self.rebuild.events),
            self.rebuild.catch_up_per_sec,
            "events",
            consume,
        ));
        rows.push(share_of_consume(
            format!("projector rebuild ({} events)", self.rebuild.events),
            self.rebuild.per_sec,
            "events",
            consume,
        ));
        rows.push(share_of_consume(
            "raw read of the same events (services' client, rdkafka)".into(),
            self.rebuild.raw_read_per_sec,
            "records",
            consume,
        ));
        rows.push(share_of_consume(
            format!("audit-log catch-up ({} records)", self.audit.records),
            self.audit.per_sec,
            "records",
            consume,
        ));
        for (service, rss) in &self.rss {
            rows.push([
                format!("{service} RSS idle / under load ({})", rss.load_stage),
                format!("{} / {}", mib(rss.idle_kib), mib(rss.load_kib)),
                String::new(),
                String::new(),
            ]);
        }
        render(&rows)
    }
}

/// A row for a level of an open-loop stage, named by what it offered.
fn level_row(
    measure: &str,
    offered: &OfferedRate,
    figure: String,
    latency: &LatencySummary,
) -> [String; 4] {
    [
        format!(
            "{measure}, {}% of max ({}/s offered)",
            offered.percent, offered.offered_per_sec
        ),
        figure,
        percentiles(latency),
        String::new(),
    ]
}

/// A row for a rate read from Kafka, against the raw consume ceiling.
fn share_of_consume(measure: String, per_sec: u64, unit: &str, consume: u64) -> [String; 4] {
    [
        measure,
        format!("{per_sec} {unit}/s"),
        String::new(),
        format!("{} of consume", percent(per_sec, consume)),
    ]
}

fn percentiles(l: &LatencySummary) -> String {
    format!("{} / {} / {}", ms(l.p50_us), ms(l.p95_us), ms(l.p99_us))
}

/// A Markdown table (readable as plain text too).
pub(super) fn render(rows: &[[String; 4]]) -> String {
    let mut widths = [0usize; 4];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        out.push('|');
        for (w, cell) in widths.iter().zip(row) {
            let _ = write!(out, " {cell:<w$} |");
        }
        out.push('\n');
        if i == 0 {
            out.push('|');
            for w in widths {
                let _ = write!(out, "{}|", "-".repeat(w + 2));
            }
            out.push('\n');
        }
    }
    out
}
