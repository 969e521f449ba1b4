//! Stage **http**: deposits and withdrawals at full speed for each client
//! count, with the processor's transaction figures over the same span.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::perf::{finish_perf, start_perf};
use super::progress::calls;
use super::{Bench, errors_note};
use crate::bank::{Bank, metric_millionths};
use crate::load::{self, LoadConfig, Rate};
use crate::report::HttpLevel;
use crate::services::{CpuSnapshot, RssPeaks, Service};
use crate::workloads::Commands;

impl Bench {
    /// Every HTTP client count in turn against the running pipeline.
    pub(super) async fn http_levels(
        &mut self,
        bank: &Bank,
        pids: &[(String, u32)],
        commands: &Service,
    ) -> anyhow::Result<()> {
        let peaks = RssPeaks::start(pids.to_vec());
        for clients in self.config.http_clients.clone() {
            let workload = Arc::new(Commands::new(bank.clone(), self.accounts.clone()));
            let profile = (self.config.perf_clients == Some(clients))
                .then(|| {
                    start_perf(
                        &self.config.out_dir,
                        commands.pid(),
                        self.config.http_duration,
                    )
                })
                .flatten();
            let bar = calls(&format!("http: {clients} clients, full speed"));
            let config =
                LoadConfig::new(clients, Rate::Max).for_duration(self.config.http_duration);
            let before = self.loop_figures(&commands.base_url()).await;
            let cpu = CpuSnapshot::take(pids);
            let report = load::run(workload.clone(), &config, Some(bar.clone())).await?;
            let cpu = cpu.since();
            let after = self.loop_figures(&commands.base_url()).await;
            bar.finish_and_clear();
            let transactions = after.commits.saturating_sub(before.commits);
            let in_transactions = after.records.saturating_sub(before.records);
            let commit_us = after.commit_us.saturating_sub(before.commit_us);
            let phases_us: BTreeMap<String, u64> = after
                .phases_us
                .iter()
                .map(|(phase, total)| {
                    let spent =
                        total.saturating_sub(before.phases_us.get(phase).copied().unwrap_or(0));
                    (phase.clone(), spent / transactions.max(1))
                })
                .collect();
            if let Some(profile) = profile {
                finish_perf(profile, &self.config.out_dir).await;
            }
            let level = HttpLevel {
                clients,
                commands: report.ok,
                rejected: workload.rejected.load(Ordering::Relaxed),
                errors: report.errors.clone(),
                per_sec: report.ok_per_second(),
                latency: report.latency(),
                transactions,
                commands_per_transaction: in_transactions / transactions.max(1),
                mean_commit_us: commit_us / transactions.max(1),
                mean_phase_us: phases_us,
                cpu,
            };
            println!(
                "[bench] http {clients:>3} clients: {} commands/s, p50 {} p99 {}; {} commands per \
                 transaction, commit {} on average ({}); CPU % of a core {:?}, machine {}%{}",
                level.per_sec,
                crate::report::ms(level.latency.p50_us),
                crate::report::ms(level.latency.p99_us),
                level.commands_per_transaction,
                crate::report::ms(level.mean_commit_us),
                level
                    .mean_phase_us
                    .iter()
                    .map(|(phase, us)| format!("{phase} {}", crate::report::ms(*us)))
                    .collect::<Vec<_>>()
                    .join(", "),
                level.cpu.percent_of_one_core,
                level.cpu.machine_busy_percent,
                errors_note(&level.errors)
            );
            self.results.http.push(level);
        }
        self.note_load_rss(&peaks.stop(), "http");
        Ok(())
    }

    /// The account-command processor's transaction counters now.
    async fn loop_figures(&self, base: &str) -> LoopFigures {
        let label = "loop=\"account-processor\"";
        let Ok(response) = self.http.get(format!("{base}/metrics")).send().await else {
            return LoopFigures::default();
        };
        let Ok(text) = response.text().await else {
            return LoopFigures::default();
        };
        let whole = |metric: &str| metric_millionths(&text, metric, label).unwrap_or(0) / 1_000_000;
        LoopFigures {
            commits: whole("eventbank_txn_commits_total"),
            records: whole("eventbank_txn_records_total"),
            commit_us: metric_millionths(&text, "eventbank_txn_commit_seconds_sum", label)
                .unwrap_or(0),
            phases_us: ["handle", "deliver", "offsets", "commit"]
                .into_iter()
                .map(|phase| {
                    let labels = format!("{label},phase=\"{phase}\"");
                    let sum = metric_millionths(&text, "eventbank_txn_phase_seconds_sum", &labels)
                        .unwrap_or(0);
                    (phase.to_owned(), sum)
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Default)]
struct LoopFigures {
    commits: u64,
    records: u64,
    commit_us: u64,
    /// `eventbank_txn_phase_seconds` sums by phase, in microseconds.
    phases_us: BTreeMap<String, u64>,
}
