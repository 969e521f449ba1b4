//! A level of the open-loop stages (**visible**, **transfers**): a share of
//! the best HTTP rate offered for the level duration, with clients enough
//! for it, and the line it prints when it ends.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::progress::calls;
use super::{Bench, errors_note, ms};
use crate::load::{self, LatencySummary, LoadConfig, LoadReport, Rate, Workload};
use crate::report::OfferedRate;
use crate::services::{CpuSnapshot, CpuUse};

/// One level of an open-loop stage: `percent` of the best HTTP rate,
/// offered for the level duration.
pub(super) struct RateLevel {
    pub offered: OfferedRate,
    pub report: LoadReport,
    /// Of the services' processes while the level ran.
    pub cpu: CpuUse,
}

impl Bench {
    /// Offers `workload` at `percent` of `max` calls/s, with clients enough
    /// for calls taking up to `latency_secs`.
    pub(super) async fn rate_level<W: Workload>(
        &self,
        stage: &str,
        pids: &[(String, u32)],
        workload: Arc<W>,
        max: u64,
        percent: u64,
        latency_secs: u64,
    ) -> anyhow::Result<RateLevel> {
        let offered = (max * percent / 100).max(1);
        let bar = calls(&format!("{stage}: {percent}% of max ({offered}/s)"));
        let clients = rate_clients(self.config.rate_clients, offered, latency_secs);
        let config = LoadConfig::new(clients, Rate::PerSecond(offered))
            .for_duration(self.config.level_duration);
        let cpu = CpuSnapshot::take(pids);
        let report = load::run(workload, &config, Some(bar.clone())).await?;
        let cpu = cpu.since();
        bar.finish_and_clear();
        Ok(RateLevel {
            offered: OfferedRate {
                percent,
                offered_per_sec: offered,
                clients,
                behind_schedule_ms: ms(report.behind_schedule),
            },
            report,
            cpu,
        })
    }
}

/// The line a level of an open-loop stage prints when it ends: the rate it
/// achieved of what it offered, and its headline latency.
pub(super) fn print_level(
    stage: &str,
    offered: &OfferedRate,
    per_sec: u64,
    (latency_name, latency): (&str, &LatencySummary),
    errors: &BTreeMap<String, u64>,
) {
    println!(
        "[bench] {stage} {}%: {per_sec}/s of {}/s, {latency_name} p50 {} p99 {}{}",
        offered.percent,
        offered.offered_per_sec,
        crate::report::ms(latency.p50_us),
        crate::report::ms(latency.p99_us),
        errors_note(errors)
    );
}

/// Clients for an open-loop `rate`: enough that requests taking up to
/// `latency_secs` each do not cap the rate (a load engine with too few
/// clients measures itself), at least `floor`, at most 4096.
fn rate_clients(floor: usize, rate: u64, latency_secs: u64) -> usize {
    let needed = usize::try_from(rate.saturating_mul(latency_secs)).unwrap_or(usize::MAX);
    needed.clamp(floor.max(1), 4096.max(floor))
}
