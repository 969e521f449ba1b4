//! Stage **visible**: deposits at fractions of the best HTTP rate, each
//! read back from the projector (command → visible).

use std::sync::Arc;

use super::load_stages::rate_clients;
use super::progress::calls;
use super::{Bench, errors_note, ms};
use crate::bank::Bank;
use crate::load::{self, LatencySummary, LoadConfig, Rate};
use crate::report::VisibleLevel;
use crate::services::{CpuSnapshot, RssPeaks};
use crate::workloads::VisibleDeposits;

impl Bench {
    /// Each offered rate in turn, `max` being the best HTTP commands/s.
    pub(super) async fn visible_levels(
        &mut self,
        bank: &Bank,
        pids: &[(String, u32)],
        max: u64,
    ) -> anyhow::Result<()> {
        let peaks = RssPeaks::start(pids.to_vec());
        for percent in self.config.levels.clone() {
            let offered = (max * percent / 100).max(1);
            let workload = Arc::new(VisibleDeposits::new(bank.clone(), self.accounts.clone()));
            let bar = calls(&format!("visible: {percent}% of max ({offered}/s)"));
            let clients = rate_clients(self.config.rate_clients, offered, 2);
            let config = LoadConfig::new(clients, Rate::PerSecond(offered))
                .for_duration(self.config.level_duration);
            let cpu = CpuSnapshot::take(pids);
            let report = load::run(workload.clone(), &config, Some(bar.clone())).await?;
            let cpu = cpu.since();
            bar.finish_and_clear();
            let level = VisibleLevel {
                cpu,
                percent,
                offered_per_sec: offered,
                clients,
                behind_schedule_ms: ms(report.behind_schedule),
                achieved_per_sec: report.ok_per_second(),
                errors: report.errors.clone(),
                command_to_visible: report.latency(),
                command: LatencySummary::of(&workload.acked.snapshot()),
                ack_to_visible: LatencySummary::of(&workload.ack_to_visible.snapshot()),
            };
            println!(
                "[bench] visible {percent}%: {}/s of {offered}/s, command → visible p50 {} p99 {}{}",
                level.achieved_per_sec,
                crate::report::ms(level.command_to_visible.p50_us),
                crate::report::ms(level.command_to_visible.p99_us),
                errors_note(&level.errors)
            );
            self.results.visible.push(level);
        }
        self.note_load_rss(&peaks.stop(), "visible");
        Ok(())
    }
}
