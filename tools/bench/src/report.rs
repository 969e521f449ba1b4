//! The figures of one run (`results.json`), the table printed at its end,
//! and the targets of issue 12 checked against them (printed, never
//! asserted).

mod machine;
mod table;
mod targets;
mod units;

use std::collections::BTreeMap;

use serde::Serialize;

pub use machine::Machine;
pub use units::{mib, ms, percent};

use crate::ceiling::ToolFigures;
use crate::load::LatencySummary;
use crate::services::CpuUse;

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

/// What a level of an open-loop stage offered; its fields lead the level's
/// own in `results.json`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OfferedRate {
    /// Of the max HTTP commands/s.
    pub percent: u64,
    pub offered_per_sec: u64,
    /// Clients the open-loop rate was offered with.
    pub clients: usize,
    /// Most a request was sent after it was due (too few clients or an
    /// overloaded bench process if far above the latency).
    pub behind_schedule_ms: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct VisibleLevel {
    #[serde(flatten)]
    pub offered: OfferedRate,
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
    #[serde(flatten)]
    pub offered: OfferedRate,
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

impl Results {
    /// The highest commands/s over HTTP of any client count.
    pub fn max_http_per_sec(&self) -> u64 {
        self.http.iter().map(|l| l.per_sec).max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests;
