//! Stage **visible**: deposits at fractions of the best HTTP rate, each
//! read back from the projector (command → visible).

use std::sync::Arc;

use super::Bench;
use super::open_loop::print_level;
use crate::bank::Bank;
use crate::load::LatencySummary;
use crate::report::VisibleLevel;
use crate::services::RssPeaks;
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
            let workload = Arc::new(VisibleDeposits::new(bank.clone(), self.accounts.clone()));
            let run = self
                .rate_level("visible", pids, workload.clone(), max, percent, 2)
                .await?;
            let level = VisibleLevel {
                offered: run.offered,
                achieved_per_sec: run.report.ok_per_second(),
                errors: run.report.errors.clone(),
                command_to_visible: run.report.latency(),
                command: LatencySummary::of(&workload.acked.snapshot()),
                ack_to_visible: LatencySummary::of(&workload.ack_to_visible.snapshot()),
                cpu: run.cpu,
            };
            print_level(
                "visible",
                &level.offered,
                level.achieved_per_sec,
                ("command → visible", &level.command_to_visible),
                &level.errors,
            );
            self.results.visible.push(level);
        }
        self.note_load_rss(&peaks.stop(), "visible");
        Ok(())
    }
}
