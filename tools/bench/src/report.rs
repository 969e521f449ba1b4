//! The figures of one run (`results.json`), the table printed at its end,
//! and the targets of issue 12 checked against them (printed, never
//! asserted).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::ceiling::ToolFigures;
use crate::load::LatencySummary;
use crate::services::CpuUse;

/// The machine the figures come from.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Machine {
    pub nproc: usize,
    pub cpu_model: String,
    pub mem_total_mib: u64,
    pub kernel: String,
    /// `/proc/loadavg` when the run started: other work on the machine
    /// (a compile, say) shows here.
    pub loadavg_at_start: String,
}

impl Machine {
    pub fn detect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|rest| rest.split_once(':'))
            .map(|(_, model)| model.trim().to_owned())
            .unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_total_mib = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse::<u64>().ok())
            .map_or(0, |kib| kib / 1024);
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
            .to_owned();
        let loadavg_at_start = std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
            .to_owned();
        Self {
            loadavg_at_start,
            nproc: std::thread::available_parallelism().map_or(0, usize::from),
            cpu_model,
            mem_total_mib,
            kernel,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Ceiling {
    /// Average key + value bytes of the run's real `account-events` records.
    pub event_record_bytes: u64,
    /// Average value bytes (what the payload file holds).
    pub event_value_bytes: u64,
    pub produce: ToolFigures,
    pub consume: ToolFigures,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Backlog {
    pub commands: u64,
    /// First result → last result.
    pub steady_ms: u64,
    pub per_sec: u64,
    /// Processor start → last result (includes start-up and the group join).
    pub total_ms: u64,
    pub per_sec_incl_start: u64,
}

/// account-command's start, before the HTTP stages.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Startup {
    /// Process start → `/readyz` answers 200.
    pub ready_ms: u64,
    /// Process start → the first command answered with its result.
    pub first_command_ms: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct HttpLevel {
    pub clients: usize,
    pub commands: u64,
    pub rejected: u64,
    pub errors: BTreeMap<String, u64>,
    pub per_sec: u64,
    pub latency: LatencySummary,
    /// Transactions the processor committed during the stage.
    pub transactions: u64,
    pub commands_per_transaction: u64,
    /// `eventbank_txn_commit_seconds` sum / count over the stage.
    pub mean_commit_us: u64,
    /// `eventbank_txn_phase_seconds` by phase (handle, deliver, offsets,
    /// commit), sum / transactions over the stage.
    pub mean_phase_us: BTreeMap<String, u64>,
    pub cpu: CpuUse,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct VisibleLevel {
    /// Of the max HTTP commands/s.
    pub percent: u64,
    pub offered_per_sec: u64,
    /// Clients the open-loop rate was offered with.
    pub clients: usize,
    /// Most a request was sent after it was due (too few clients or an
    /// overloaded bench process if far above the latency).
    pub behind_schedule_ms: u64,
    pub achieved_per_sec: u64,
    pub errors: BTreeMap<String, u64>,
    /// Command sent (due) → the view shows its version.
    pub command_to_visible: LatencySummary,
    /// Command sent → its answer.
    pub command: LatencySummary,
    /// Answer → the view shows the version.
    pub ack_to_visible: LatencySummary,
    pub cpu: CpuUse,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TransferLevel {
    pub percent: u64,
    pub offered_per_sec: u64,
    /// Clients the open-loop rate was offered with.
    pub clients: usize,
    /// Most a request was sent after it was due (too few clients or an
    /// overloaded bench process if far above the latency).
    pub behind_schedule_ms: u64,
    pub completed: u64,
    pub failed: u64,
    pub errors: BTreeMap<String, u64>,
    /// Transfers that ended (completed or failed) per second.
    pub per_sec: u64,
    /// POST sent (due) → status terminal in the view.
    pub end_to_end: LatencySummary,
    /// POST sent → debit answered.
    pub debit: LatencySummary,
    /// POST sent → terminal event committed on `transfer-events`.
    pub ended: LatencySummary,
    pub cpu: CpuUse,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Rebuild {
    pub events: u64,
    pub accounts: u64,
    /// Producing the synthetic events straight to `account-events`.
    pub produce_ms: u64,
    /// The raw read of those events with the services' Kafka client.
    pub raw_read_ms: u64,
    pub raw_read_per_sec: u64,
    /// The serving projector's first pass over them (start → ready).
    pub catch_up_ms: u64,
    pub catch_up_per_sec: u64,
    /// `POST /admin/rebuild` → the new generation is served.
    pub rebuild_ms: u64,
    pub per_sec: u64,
    /// During the rebuild.
    pub cpu: CpuUse,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Audit {
    /// Records on the topics audit-log reads.
    pub records: u64,
    /// Of which appended to the trail (the rest are accepted command results).
    pub recorded: u64,
    pub elapsed_ms: u64,
    pub per_sec: u64,
    pub cpu: CpuUse,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Rss {
    pub idle_kib: u64,
    /// Peak while the service was under its load.
    pub load_kib: u64,
    /// Which stage the load peak comes from.
    pub load_stage: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StageTime {
    pub stage: String,
    pub ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetCheck {
    pub target: String,
    pub goal: String,
    pub measured: String,
    pub met: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Results {
    pub started_at: String,
    pub git_revision: String,
    pub machine: Machine,
    pub settings: BTreeMap<String, String>,
    pub ceiling: Ceiling,
    pub backlog: Backlog,
    pub startup: Startup,
    pub http: Vec<HttpLevel>,
    pub visible: Vec<VisibleLevel>,
    pub transfers: Vec<TransferLevel>,
    pub rebuild: Rebuild,
    pub audit: Audit,
    pub rss: BTreeMap<String, Rss>,
    pub stages: Vec<StageTime>,
    pub targets: Vec<TargetCheck>,
}

/// `part / whole` as a percentage with one decimal, e.g. `"23.4%"`.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "-".to_owned();
    }
    let permille = u128::from(part) * 1000 / u128::from(whole);
    format!("{}.{}%", permille / 10, permille % 10)
}

/// Microseconds as milliseconds with one decimal, e.g. `"12.3 ms"`.
pub fn ms(us: u64) -> String {
    format!("{}.{} ms", us / 1000, (us % 1000) / 100)
}

/// KiB as MiB with one decimal.
pub fn mib(kib: u64) -> String {
    format!("{}.{} MiB", kib / 1024, (kib % 1024) * 10 / 1024)
}

impl Results {
    /// The highest commands/s over HTTP of any client count.
    pub fn max_http_per_sec(&self) -> u64 {
        self.http.iter().map(|l| l.per_sec).max().unwrap_or(0)
    }

    /// Checks the targets of issue 12 against the figures.
    pub fn check_targets(&mut self) {
        let mut checks = Vec::new();
        if let Some(one) = self.http.iter().find(|l| l.clients == 1) {
            checks.push(TargetCheck {
                target: "one command over HTTP, sequential, p50".into(),
                goal: "<= 10 ms".into(),
                measured: ms(one.latency.p50_us),
                met: one.latency.count > 0 && one.latency.p50_us <= 10_000,
            });
            checks.push(TargetCheck {
                target: "one command over HTTP, sequential, p99".into(),
                goal: "<= 25 ms".into(),
                measured: ms(one.latency.p99_us),
                met: one.latency.count > 0 && one.latency.p99_us <= 25_000,
            });
        }
        if let Some(half) = self.visible.iter().find(|l| l.percent == 50) {
            checks.push(TargetCheck {
                target: "command -> visible in the view, p99 at 50% of max load".into(),
                goal: "<= 50 ms".into(),
                measured: ms(half.command_to_visible.p99_us),
                met: half.command_to_visible.count > 0 && half.command_to_visible.p99_us <= 50_000,
            });
        }
        let produce = self.ceiling.produce.records_per_sec;
        checks.push(TargetCheck {
            target: "exactly-once commands/s from a backlog vs raw produce".into(),
            goal: ">= 25%".into(),
            measured: format!(
                "{} ({} of {produce}/s)",
                percent(self.backlog.per_sec, produce),
                self.backlog.per_sec
            ),
            met: produce > 0 && self.backlog.per_sec * 4 >= produce,
        });
        let consume = self.ceiling.consume.records_per_sec;
        checks.push(TargetCheck {
            target: "projector rebuild events/s vs raw consume".into(),
            goal: ">= 30%".into(),
            measured: format!(
                "{} ({} of {consume}/s)",
                percent(self.rebuild.per_sec, consume),
                self.rebuild.per_sec
            ),
            met: consume > 0 && self.rebuild.per_sec * 10 >= consume * 3,
        });
        for (service, rss) in &self.rss {
            checks.push(TargetCheck {
                target: format!("{service} RSS idle"),
                goal: "<= 30 MB".into(),
                measured: mib(rss.idle_kib),
                // 30 MB = 30,000,000 bytes.
                met: rss.idle_kib > 0 && rss.idle_kib * 1024 <= 30_000_000,
            });
        }
        self.targets = checks;
    }

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
                format!("{} / {} / {}", ms(l.p50_us), ms(l.p95_us), ms(l.p99_us)),
                format!("{} of produce", percent(level.per_sec, produce)),
            ]);
        }
        for level in &self.visible {
            let l = &level.command_to_visible;
            rows.push([
                format!(
                    "command -> visible, {}% of max ({}/s offered)",
                    level.percent, level.offered_per_sec
                ),
                format!("{} commands/s", level.achieved_per_sec),
                format!("{} / {} / {}", ms(l.p50_us), ms(l.p95_us), ms(l.p99_us)),
                String::new(),
            ]);
        }
        for level in &self.transfers {
            let l = &level.end_to_end;
            rows.push([
                format!(
                    "transfers end to end, {}% of max ({}/s offered)",
                    level.percent, level.offered_per_sec
                ),
                format!("{} transfers/s", level.per_sec),
                format!("{} / {} / {}", ms(l.p50_us), ms(l.p95_us), ms(l.p99_us)),
                String::new(),
            ]);
        }
        rows.push([
            format!("projector catch-up ({} events)", self.rebuild.events),
            format!("{} events/s", self.rebuild.catch_up_per_sec),
            String::new(),
            format!(
                "{} of consume",
                percent(self.rebuild.catch_up_per_sec, consume)
            ),
        ]);
        rows.push([
            format!("projector rebuild ({} events)", self.rebuild.events),
            format!("{} events/s", self.rebuild.per_sec),
            String::new(),
            format!("{} of consume", percent(self.rebuild.per_sec, consume)),
        ]);
        rows.push([
            "raw read of the same events (services' client, rdkafka)".into(),
            format!("{} records/s", self.rebuild.raw_read_per_sec),
            String::new(),
            format!(
                "{} of consume",
                percent(self.rebuild.raw_read_per_sec, consume)
            ),
        ]);
        rows.push([
            format!("audit-log catch-up ({} records)", self.audit.records),
            format!("{} records/s", self.audit.per_sec),
            String::new(),
            format!("{} of consume", percent(self.audit.per_sec, consume)),
        ]);
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

    pub fn targets_table(&self) -> String {
        let mut rows: Vec<[String; 4]> = vec![[
            "target".into(),
            "goal".into(),
            "measured".into(),
            "met".into(),
        ]];
        for check in &self.targets {
            rows.push([
                check.target.clone(),
                check.goal.clone(),
                check.measured.clone(),
                if check.met { "yes" } else { "NO" }.into(),
            ]);
        }
        render(&rows)
    }
}

/// A Markdown table (readable as plain text too).
fn render(rows: &[[String; 4]]) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_formatting() {
        assert_eq!(percent(234, 1000), "23.4%");
        assert_eq!(percent(1, 0), "-");
        assert_eq!(ms(12_345), "12.3 ms");
        assert_eq!(ms(999), "0.9 ms");
        assert_eq!(mib(30 * 1024 + 512), "30.5 MiB");
    }

    #[test]
    fn targets_follow_the_figures() {
        let mut results = Results::default();
        results.ceiling.produce.records_per_sec = 100_000;
        results.ceiling.consume.records_per_sec = 100_000;
        results.backlog.per_sec = 25_000;
        results.rebuild.per_sec = 29_999;
        results.rss.insert(
            "svc".into(),
            Rss {
                idle_kib: 29_296,
                ..Rss::default()
            },
        );
        results.check_targets();
        let met: Vec<bool> = results.targets.iter().map(|t| t.met).collect();
        assert_eq!(met, [true, false, true]);
        assert!(results.table().contains("25.0% of produce"));
    }
}
