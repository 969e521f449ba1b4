//! Stages **http**, **visible** and **transfers**: the whole pipeline
//! started once, warmed up, then driven stage after stage.

use std::time::{Duration, Instant};

use super::progress::spinner;
use super::{Bench, STOP_GRACE, ms};
use crate::bank::Bank;
use crate::report::Startup;

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
