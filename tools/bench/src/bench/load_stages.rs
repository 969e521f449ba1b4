//! Stages **http**, **visible** and **transfers**: the whole pipeline
//! started once, warmed up, then driven stage after stage.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::progress::{calls, spinner};
use super::{Bench, STOP_GRACE, errors_note, ms};
use crate::bank::Bank;
use crate::load::{self, LatencySummary, LoadConfig, LoadReport, Rate, Workload};
use crate::report::{OfferedRate, Startup};
use crate::services::{CpuSnapshot, CpuUse};

impl Bench {
    /// HTTP, command → visible, transfers: the whole pipeline running.
    pub(super) async fn load_stages(&mut self) -> anyhow::Result<()> {
        let started = Instant::now();
        let bar = spinner("http: starting account-command, balance-projector, transfer-saga");
        let prefix = self.prefix.clone();
        let commands = self
            .start("account-command", &prefix, &[], "account-command")
            .await?;
        let projector = self
            .start("balance-projector", &prefix, &[], "balance-projector")
            .await?;
        let saga = self
            .start("transfer-saga", &prefix, &[], "transfer-saga")
            .await?;
        bar.finish_and_clear();
        let bank = Bank::new(
            commands.base_url(),
            projector.base_url(),
            self.config.rate_clients.max(256),
            Duration::from_secs(30),
        );
        let ready = started.elapsed();
        let bar = spinner("http: waiting until a command is answered");
        self.results.startup = warm_up(&bank, &self.accounts, ready).await?;
        bar.finish_and_clear();
        println!(
            "[bench] account-command: ready (/readyz) after {} ms, first command answered after {} ms",
            self.results.startup.ready_ms, self.results.startup.first_command_ms
        );
        let pids: Vec<(String, u32)> = [&commands, &projector, &saga]
            .iter()
            .map(|s| (s.name.clone(), s.pid()))
            .collect();

        self.http_levels(&bank, &pids, &commands).await?;
        self.stage_done("http", started);

        let max = self.results.max_http_per_sec().max(1);
        let started = Instant::now();
        self.visible_levels(&bank, &pids, max).await?;
        self.stage_done("visible", started);

        let started = Instant::now();
        self.transfer_levels(&bank, &pids, max).await?;
        for process in [commands, projector, saga] {
            process.stop(STOP_GRACE).await?;
        }
        self.stage_done("transfers", started);
        Ok(())
    }
}

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
pub(super) fn rate_clients(floor: usize, rate: u64, latency_secs: u64) -> usize {
    let needed = usize::try_from(rate.saturating_mul(latency_secs)).unwrap_or(usize::MAX);
    needed.clamp(floor.max(1), 4096.max(floor))
}

/// Sends deposits one at a time until one is answered with its result (a
/// processor still restoring its partitions after `/readyz` said ready makes
/// the first ones wait); the time that took after the start.
async fn warm_up(bank: &Bank, accounts: &[String], ready: Duration) -> anyhow::Result<Startup> {
    let started = Instant::now() - ready;
    for attempt in 0..60u64 {
        let account = &accounts[usize::try_from(attempt).unwrap_or(0) % accounts.len()];
        if let Ok(crate::bank::Answer::Accepted(_)) = bank.deposit(account, 1).await {
            return Ok(Startup {
                ready_ms: ms(ready),
                first_command_ms: ms(started.elapsed()),
            });
        }
    }
    anyhow::bail!("no command was answered within 60 attempts after the start")
}
