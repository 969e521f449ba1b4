//! Stage **transfers**: transfers at fractions of the best HTTP rate,
//! followed on `transfer-events` and in the view until they end.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::load_stages::rate_clients;
use super::progress::calls;
use super::{Bench, errors_note, ms};
use crate::bank::Bank;
use crate::load::{self, LatencySummary, LoadConfig, Rate};
use crate::report::TransferLevel;
use crate::services::{CpuSnapshot, RssPeaks};
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
            let offered = (max * percent / 100).max(1);
            let workload = Arc::new(Transfers::new(
                bank.clone(),
                self.accounts.clone(),
                watcher.clone(),
            ));
            let bar = calls(&format!("transfers: {percent}% of max ({offered}/s)"));
            let clients = rate_clients(self.config.rate_clients, offered, 4);
            let config = LoadConfig::new(clients, Rate::PerSecond(offered))
                .for_duration(self.config.level_duration);
            let cpu = CpuSnapshot::take(pids);
            let report = load::run(workload.clone(), &config, Some(bar.clone())).await?;
            let cpu = cpu.since();
            bar.finish_and_clear();
            let completed = workload.completed.load(Ordering::Relaxed);
            let failed = workload.failed.load(Ordering::Relaxed);
            let level = TransferLevel {
                cpu,
                percent,
                offered_per_sec: offered,
                clients,
                behind_schedule_ms: ms(report.behind_schedule),
                completed,
                failed,
                errors: report.errors.clone(),
                per_sec: load::per_second(completed + failed, report.elapsed),
                end_to_end: report.latency(),
                debit: LatencySummary::of(&workload.debited.snapshot()),
                ended: LatencySummary::of(&workload.ended.snapshot()),
            };
            println!(
                "[bench] transfers {percent}%: {}/s of {offered}/s, end to end p50 {} p99 {}{}",
                level.per_sec,
                crate::report::ms(level.end_to_end.p50_us),
                crate::report::ms(level.end_to_end.p99_us),
                errors_note(&level.errors)
            );
            self.results.transfers.push(level);
        }
        watcher.stop();
        self.note_load_rss(&peaks.stop(), "transfers");
        Ok(())
    }
}
