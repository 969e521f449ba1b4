//! Stage **transfers**: transfers at fractions of the best HTTP rate,
//! followed on `transfer-events` and in the view until they end.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::Bench;
use super::open_loop::print_level;
use crate::bank::Bank;
use crate::load::{self, LatencySummary};
use crate::report::TransferLevel;
use crate::services::RssPeaks;
use crate::watch::TransferWatcher;
use crate::workloads::Transfers;

impl Bench {
    /// Each offered rate in turn, `max` being the best HTTP commands/s.
    pub(super) async fn transfer_levels(
        &mut self,
        bank: &Bank,
        pids: &[(String, u32)],
        max: u64,
    ) -> anyhow::Result<()> {
        let prefix = self.prefix.clone();
        let kafka = self.kafka(&prefix);
        let watcher =
            TransferWatcher::start(&kafka, &format!("{prefix}bench-transfer-watch")).await?;
        let peaks = RssPeaks::start(pids.to_vec());
        for percent in self.config.levels.clone() {
            let workload = Arc::new(Transfers::new(
                bank.clone(),
                self.accounts.clone(),
                watcher.clone(),
            ));
            let run = self
                .rate_level("transfers", pids, workload.clone(), max, percent, 4)
                .await?;
            let completed = workload.completed.load(Ordering::Relaxed);
            let failed = workload.failed.load(Ordering::Relaxed);
            let level = TransferLevel {
                offered: run.offered,
                completed,
                failed,
                errors: run.report.errors.clone(),
                per_sec: load::per_second(completed + failed, run.report.elapsed),
                end_to_end: run.report.latency(),
                debit: LatencySummary::of(&workload.debited.snapshot()),
                ended: LatencySummary::of(&workload.ended.snapshot()),
                cpu: run.cpu,
            };
            print_level(
                "transfers",
                &level.offered,
                level.per_sec,
                ("end to end", &level.end_to_end),
                &level.errors,
            );
            self.results.transfers.push(level);
        }
        watcher.stop();
        self.note_load_rss(&peaks.stop(), "transfers");
        Ok(())
    }
}
