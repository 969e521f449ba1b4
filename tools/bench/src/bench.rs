//! One benchmark run, stage by stage (the order below is the order they run
//! in; the table prints them grouped by what they measure).
//!
//! 1. **idle** — the four services start on empty topics; their RSS once ready.
//! 2. **backlog** — N commands are produced straight to `account-commands`,
//!    then the account-command processor (API off) starts; time until every
//!    result is on `command-results`.
//! 3. **ceiling** — with nothing else running: ProducerPerformance with the
//!    backlog's real `account-events` values, ConsumerPerformance back.
//! 4. **audit** — audit-log starts alone on the backlog's topics; time until
//!    it has taken every record.
//! 5. **http** — account-command (API + processor), balance-projector and
//!    transfer-saga run; deposits and withdrawals at full speed with 1, 16, 64,
//!    256 clients.
//! 6. **visible** — deposits at 25/50/75 % of the best HTTP rate, each read
//!    back from the projector with `min_version` (command → visible).
//! 7. **transfers** — transfers at the same offered rates, followed until the
//!    projector shows them completed.
//! 8. **rebuild** — synthetic events (valid streams) straight to a separate
//!    `account-events`; a projector catches up on them, then rebuilds them
//!    (`POST /admin/rebuild`) until the new generation is served.
//!
//! Everything runs under a prefix of its own (topics, consumer groups,
//! transactional ids, Redis keys, PostgreSQL schema), deleted at the end.

mod audit_catch_up;
mod backlog;
mod clean_up;
mod http_levels;
mod idle;
mod launch;
mod load_stages;
mod open_loop;
mod perf;
mod progress;
mod raw_ceiling;
mod rebuild;
mod synthetic_events;
mod transfer_levels;
mod visible_levels;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::kafka;
use crate::report::{Machine, Results, StageTime};

/// Where the infrastructure is and how big a run is.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    pub kafka: String,
    pub redis: String,
    pub postgres: String,
    /// The Kafka jars (for ProducerPerformance / ConsumerPerformance).
    pub kafka_libs: PathBuf,
    /// Where the service binaries are (`target/release`).
    pub bin_dir: PathBuf,
    /// Results, charts, service logs.
    pub out_dir: PathBuf,
    pub partitions: i32,
    pub accounts: usize,
    pub backlog_commands: u64,
    pub ceiling_records: u64,
    pub http_clients: Vec<usize>,
    pub http_duration: Duration,
    pub levels: Vec<u64>,
    pub level_duration: Duration,
    /// Clients for the fixed-rate stages (enough for rate × latency).
    pub rate_clients: usize,
    pub rebuild_events: u64,
    pub rebuild_accounts: u64,
    /// `perf record` the account-command process during this HTTP client
    /// count's stage (if perf is installed).
    pub perf_clients: Option<usize>,
    /// Keep topics, keys and schema at the end (to look at them).
    pub keep: bool,
    /// `EVENTBANK_*` variables given to every service, after the bench's own.
    pub service_settings: Vec<(String, String)>,
    /// The stages to run (`--stages`); every stage by default.
    pub stages: Vec<String>,
    pub settings: BTreeMap<String, String>,
}

impl BenchConfig {
    /// Whether `stage` is to run.
    pub fn runs(&self, stage: &str) -> bool {
        self.stages.iter().any(|s| s == stage)
    }
}

const SERVICES: [&str; 4] = [
    "account-command",
    "balance-projector",
    "transfer-saga",
    "audit-log",
];
const READY_LIMIT: Duration = Duration::from_secs(120);
const STOP_GRACE: Duration = Duration::from_secs(30);

fn ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A run in progress.
#[derive(Debug)]
pub struct Bench {
    config: BenchConfig,
    id: String,
    /// Topic prefix of the main stages; every prefix of this run starts with it.
    prefix: String,
    http: reqwest::Client,
    results: Results,
    accounts: Arc<Vec<String>>,
    logs: PathBuf,
    started: Instant,
}

impl Bench {
    pub fn new(config: BenchConfig) -> anyhow::Result<Self> {
        let id = uuid::Uuid::new_v4().simple().to_string()[..10].to_owned();
        let logs = config.out_dir.join("logs");
        std::fs::create_dir_all(&logs)?;
        let http = crate::auth::client_builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()?;
        let results = Results {
            started_at: Utc::now().to_rfc3339(),
            git_revision: git_revision(),
            machine: Machine::detect(),
            settings: config.settings.clone(),
            ..Results::default()
        };
        Ok(Self {
            prefix: format!("bench-{id}."),
            id,
            config,
            http,
            results,
            accounts: Arc::new(Vec::new()),
            logs,
            started: Instant::now(),
        })
    }

    fn stage_done(&mut self, stage: &str, started: Instant) {
        let elapsed = started.elapsed();
        println!(
            "[bench] stage {stage:<10} {}.{} s",
            elapsed.as_secs(),
            elapsed.subsec_millis() / 100
        );
        self.results.stages.push(StageTime {
            stage: stage.to_owned(),
            ms: ms(elapsed),
        });
    }

    /// Runs every stage, then cleans up (also after a failed stage) and
    /// writes the results.
    pub async fn run(mut self) -> anyhow::Result<Results> {
        println!(
            "[bench] run {} (topics {}*, Redis keys {}*, schema {}); logs in {}",
            self.id,
            self.prefix,
            self.redis_prefix(&self.prefix),
            self.schema(),
            self.logs.display()
        );
        let outcome = self.stages().await;
        if self.config.keep {
            println!(
                "[bench] --keep: leaving topics {}*, keys and schema",
                self.prefix
            );
        } else {
            let started = Instant::now();
            if let Err(err) = self.clean_up().await {
                eprintln!("[bench] clean-up failed: {err:#}");
            }
            self.stage_done("clean-up", started);
        }
        outcome?;
        self.results.check_targets();
        let json = serde_json::to_string_pretty(&self.results)?;
        let path = self.config.out_dir.join("results.json");
        std::fs::write(&path, json)?;
        println!("[bench] results: {}", path.display());
        for chart in crate::charts::draw_all(&self.config.out_dir, &self.results)? {
            println!("[bench] chart: {}", chart.display());
        }
        let total = self.started.elapsed();
        println!("[bench] total {} s", total.as_secs());
        Ok(self.results)
    }

    async fn stages(&mut self) -> anyhow::Result<()> {
        let prefix = self.prefix.clone();
        kafka::create_system_topics(&self.kafka(&prefix)).await?;

        self.timed_stage("idle", async |bench: &mut Self| bench.idle().await)
            .await?;
        self.timed_stage("backlog", async |bench: &mut Self| bench.backlog().await)
            .await?;
        self.timed_stage("ceiling", async |bench: &mut Self| bench.ceiling().await)
            .await?;
        self.timed_stage("audit", async |bench: &mut Self| bench.audit().await)
            .await?;
        // The load stages time each of their three stages themselves.
        if self.config.runs("load") {
            self.load_stages().await?;
        }
        self.timed_stage("rebuild", async |bench: &mut Self| bench.rebuild().await)
            .await?;
        Ok(())
    }

    /// Runs `stage` if the configuration asks for it, and notes how long it took.
    async fn timed_stage(
        &mut self,
        stage: &str,
        run: impl AsyncFnOnce(&mut Self) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        if self.config.runs(stage) {
            let started = Instant::now();
            run(self).await?;
            self.stage_done(stage, started);
        }
        Ok(())
    }

    fn note_load_rss(&mut self, peaks: &BTreeMap<String, u64>, stage: &str) {
        for (service, kib) in peaks {
            let rss = self.results.rss.entry(service.clone()).or_default();
            if *kib > rss.load_kib {
                rss.load_kib = *kib;
                rss.load_stage = stage.to_owned();
            }
        }
    }
}

fn errors_note(errors: &BTreeMap<String, u64>) -> String {
    if errors.is_empty() {
        return String::new();
    }
    let list: Vec<String> = errors.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    format!(" (errors: {})", list.join(", "))
}

fn git_revision() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}
