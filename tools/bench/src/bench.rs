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

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::Utc;
use eventbank_events::{
    AccountCommand, AccountEvent, AccountEventEnvelope, AccountId, Amount, CommandEnvelope,
    CommandId, CorrelationId, Currency, EventId, Holder, Money, TopicKind, WireRecord, wire,
};
use eventbank_runtime::kafka::KafkaSettings;
use indicatif::{ProgressBar, ProgressStyle};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};

use crate::bank::{Bank, metric_millionths, metric_sum};
use crate::ceiling::KafkaTools;
use crate::kafka;
use crate::load::{self, LatencySummary, LoadConfig, Rate};
use crate::report::{
    Audit, Backlog, Ceiling, HttpLevel, Machine, Rebuild, Results, Rss, StageTime, Startup,
    TransferLevel, VisibleLevel,
};
use crate::services::{CpuSnapshot, RssPeaks, Service};
use crate::watch::TransferWatcher;
use crate::workloads::{Commands, Transfers, VisibleDeposits};

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

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("static template"),
    );
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A bar for a load run, whose length is not known in advance.
fn calls(message: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg}: {human_pos} calls ({per_sec}) [{elapsed}]")
            .expect("static template"),
    );
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn counter(message: &str, total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg} [{bar:30}] {human_pos}/{human_len} ({per_sec}) [{elapsed}]",
        )
        .expect("static template")
        .progress_chars("=> "),
    );
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
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
        let http = reqwest::Client::builder()
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

    fn kafka(&self, prefix: &str) -> KafkaSettings {
        let mut kafka = KafkaSettings {
            bootstrap_servers: self.config.kafka.clone(),
            topic_prefix: prefix.to_owned(),
            ..KafkaSettings::default()
        };
        kafka.topics.partitions = self.config.partitions;
        kafka
    }

    fn redis_prefix(&self, prefix: &str) -> String {
        prefix.replace('.', ":")
    }

    fn schema(&self) -> String {
        format!("bench_{}", self.id)
    }

    /// The `EVENTBANK_*` settings of `service` under topic prefix `prefix`.
    fn env(
        &self,
        service: &str,
        prefix: &str,
        port: u16,
        extra: &[(&str, String)],
    ) -> BTreeMap<String, String> {
        let mut env: BTreeMap<String, String> = [
            ("EVENTBANK_INSTANCE", format!("{service}-0")),
            ("EVENTBANK_HTTP__BIND", format!("127.0.0.1:{port}")),
            (
                "EVENTBANK_KAFKA__BOOTSTRAP_SERVERS",
                self.config.kafka.clone(),
            ),
            ("EVENTBANK_KAFKA__TOPIC_PREFIX", prefix.to_owned()),
            (
                "EVENTBANK_KAFKA__TOPICS__PARTITIONS",
                self.config.partitions.to_string(),
            ),
            ("EVENTBANK_TELEMETRY__LOG_FORMAT", "json".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        match service {
            "balance-projector" => {
                env.insert("EVENTBANK_REDIS__URL".into(), self.config.redis.clone());
                env.insert(
                    "EVENTBANK_REDIS__KEY_PREFIX".into(),
                    self.redis_prefix(prefix),
                );
            }
            "audit-log" => {
                env.insert(
                    "EVENTBANK_POSTGRES__URL".into(),
                    self.config.postgres.clone(),
                );
                env.insert("EVENTBANK_POSTGRES__SCHEMA".into(), self.schema());
            }
            _ => {}
        }
        for (key, value) in extra {
            env.insert((*key).to_owned(), value.clone());
        }
        env.extend(self.config.service_settings.iter().cloned());
        env
    }

    async fn start(
        &self,
        service: &str,
        prefix: &str,
        extra: &[(&str, String)],
        log_name: &str,
    ) -> anyhow::Result<Service> {
        let port = free_port()?;
        let env = self.env(service, prefix, port, extra);
        let log = self.logs.join(format!("{log_name}.log"));
        let mut process = Service::spawn(
            service,
            &self.config.bin_dir.join(service),
            port,
            &env,
            &log,
        )?;
        process.wait_ready(&self.http, READY_LIMIT).await?;
        Ok(process)
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

        if self.config.runs("idle") {
            let started = Instant::now();
            self.idle().await?;
            self.stage_done("idle", started);
        }
        if self.config.runs("backlog") {
            let started = Instant::now();
            self.backlog().await?;
            self.stage_done("backlog", started);
        }
        if self.config.runs("ceiling") {
            let started = Instant::now();
            self.ceiling().await?;
            self.stage_done("ceiling", started);
        }
        if self.config.runs("audit") {
            let started = Instant::now();
            self.audit().await?;
            self.stage_done("audit", started);
        }
        if self.config.runs("load") {
            self.load_stages().await?;
        }
        if self.config.runs("rebuild") {
            let started = Instant::now();
            self.rebuild().await?;
            self.stage_done("rebuild", started);
        }
        Ok(())
    }

    /// Every service on empty topics, ready, then left alone for 3 s.
    async fn idle(&mut self) -> anyhow::Result<()> {
        let bar = spinner("idle: starting the four services on empty topics");
        let prefix = self.prefix.clone();
        let mut running = Vec::new();
        for service in SERVICES {
            running.push(
                self.start(service, &prefix, &[], &format!("{service}-idle"))
                    .await?,
            );
        }
        bar.set_message("idle: measuring RSS");
        tokio::time::sleep(Duration::from_secs(3)).await;
        for process in &running {
            self.results.rss.insert(
                process.name.clone(),
                Rss {
                    idle_kib: process.rss_kib().unwrap_or(0),
                    ..Rss::default()
                },
            );
        }
        for process in running {
            process.stop(STOP_GRACE).await?;
        }
        bar.finish_and_clear();
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

    /// N commands straight onto `account-commands`, then the processor.
    async fn backlog(&mut self) -> anyhow::Result<()> {
        let kafka = self.kafka(&self.prefix.clone());
        let topics = kafka.topics();
        let accounts: Vec<AccountId> = (0..self.config.accounts)
            .map(|_| AccountId::new())
            .collect();
        let command = |account: AccountId, command: AccountCommand| {
            let envelope = CommandEnvelope::new(
                CommandId::new(),
                account,
                CorrelationId::new(),
                Utc::now(),
                command,
            );
            (wire::encode_key(envelope.key()), wire::encode(&envelope))
        };
        let holder = Holder::parse("Bench").expect("a valid holder");
        let opens: Vec<_> = accounts
            .iter()
            .map(|a| {
                command(
                    *a,
                    AccountCommand::OpenAccount {
                        holder: holder.clone(),
                        currency: Currency::EUR,
                    },
                )
            })
            .collect();
        // Every account gets a large first deposit (so withdrawals and
        // transfers later are accepted), then small deposits and withdrawals
        // (one in four) round robin.
        let mut rest: Vec<_> = accounts
            .iter()
            .map(|a| {
                command(
                    *a,
                    AccountCommand::Deposit {
                        amount: Amount::new(1_000_000_000).expect("a valid amount"),
                    },
                )
            })
            .collect();
        let total = self.config.backlog_commands.max(2 * accounts.len() as u64);
        for n in 0..total - 2 * accounts.len() as u64 {
            let account = accounts[usize::try_from(n).unwrap_or(0) % accounts.len()];
            let change = if n % 4 == 3 {
                AccountCommand::Withdraw {
                    amount: Amount::new(50).expect("a valid amount"),
                }
            } else {
                AccountCommand::Deposit {
                    amount: Amount::new(100).expect("a valid amount"),
                }
            };
            rest.push(command(account, change));
        }
        let bar = counter("backlog: producing commands", total);
        let producer = kafka::producer(&kafka)?;
        let commands_topic = topics.name(TopicKind::AccountCommands);
        // Opens first, acknowledged before any deposit is sent.
        kafka::produce(&producer, &commands_topic, &opens, 5_000, Some(&bar)).await?;
        kafka::produce(&producer, &commands_topic, &rest, 5_000, Some(&bar)).await?;
        bar.finish_and_clear();

        let results_topic = topics.name(TopicKind::CommandResults);
        let reader = results_reader(&kafka, &results_topic)?;
        let bar = counter("backlog: exactly-once processing", total);
        let watch_bar = bar.clone();
        let counting = tokio::task::spawn_blocking(move || count_until(&reader, total, &watch_bar));
        let started = Instant::now();
        let processor = self
            .start(
                "account-command",
                &self.prefix.clone(),
                &[("EVENTBANK_API__ENABLED", "false".to_owned())],
                "account-command-backlog",
            )
            .await?;
        let peaks = RssPeaks::start(vec![("account-command".into(), processor.pid())]);
        let (first, last) = counting.await??;
        let peaks = peaks.stop();
        processor.stop(STOP_GRACE).await?;
        bar.finish_and_clear();
        self.note_load_rss(&peaks, "backlog");
        let steady = last.saturating_duration_since(first);
        let whole = last.saturating_duration_since(started);
        self.results.backlog = Backlog {
            commands: total,
            steady_ms: ms(steady),
            // Results after the first: the first marks the start.
            per_sec: load::per_second(total.saturating_sub(1), steady),
            total_ms: ms(whole),
            per_sec_incl_start: load::per_second(total, whole),
        };
        self.accounts = Arc::new(accounts.iter().map(ToString::to_string).collect());
        println!(
            "[bench] backlog: {total} commands, {} commands/s (first → last result), {} incl. start",
            self.results.backlog.per_sec, self.results.backlog.per_sec_incl_start
        );
        Ok(())
    }

    /// The raw ceiling with the backlog's real event values.
    async fn ceiling(&mut self) -> anyhow::Result<()> {
        let bar = spinner("ceiling: sampling account-events");
        let kafka = self.kafka(&self.prefix.clone());
        let events_topic = kafka.topics().name(TopicKind::AccountEvents);
        let scan_kafka = kafka.clone();
        let scan =
            tokio::task::spawn_blocking(move || kafka::scan(&scan_kafka, &[events_topic], 10_000))
                .await??;
        anyhow::ensure!(scan.records > 0, "the backlog left no events");
        let values: u64 = scan.sample.iter().map(|v| v.len() as u64).sum();
        let count = scan.sample.len() as u64;
        self.results.ceiling = Ceiling {
            event_record_bytes: scan.bytes / scan.records,
            event_value_bytes: values / count.max(1),
            ..Ceiling::default()
        };
        let payloads = self.config.out_dir.join("event-payloads.txt");
        let mut text = Vec::with_capacity(usize::try_from(values).unwrap_or(0) + scan.sample.len());
        for value in &scan.sample {
            anyhow::ensure!(!value.contains(&b'\n'), "an event value holds a newline");
            text.extend_from_slice(value);
            text.push(b'\n');
        }
        std::fs::write(&payloads, text)?;

        let topic = format!("{}ceiling", self.prefix);
        kafka::create_topic(&kafka, &topic, self.config.partitions).await?;
        let tools = KafkaTools::new(
            self.config.kafka_libs.clone(),
            self.config.kafka.clone(),
            &self.config.out_dir,
        )?;
        let records = self.config.ceiling_records;
        bar.set_message(format!("ceiling: ProducerPerformance, {records} records"));
        self.results.ceiling.produce = tools.produce(&topic, records, &payloads).await?;
        bar.set_message(format!("ceiling: ConsumerPerformance, {records} records"));
        self.results.ceiling.consume = tools.consume(&topic, records, &self.config.out_dir).await?;
        bar.finish_and_clear();
        println!(
            "[bench] ceiling: produce {} records/s, consume {} records/s ({} B event values)",
            self.results.ceiling.produce.records_per_sec,
            self.results.ceiling.consume.records_per_sec,
            self.results.ceiling.event_value_bytes
        );
        Ok(())
    }

    /// audit-log alone on the backlog's records.
    async fn audit(&mut self) -> anyhow::Result<()> {
        let bar = spinner("audit: counting the records audit-log reads");
        let kafka = self.kafka(&self.prefix.clone());
        let topics = kafka.topics();
        let names = vec![
            topics.name(TopicKind::AccountEvents),
            topics.name(TopicKind::TransferEvents),
            topics.name(TopicKind::CommandResults),
        ];
        let records = tokio::task::spawn_blocking(move || kafka::scan(&kafka, &names, 0))
            .await??
            .records;
        bar.finish_and_clear();
        let bar = counter("audit: audit-log catching up", records);
        let started = Instant::now();
        let audit = self
            .start("audit-log", &self.prefix.clone(), &[], "audit-log-backlog")
            .await?;
        let peaks = RssPeaks::start(vec![("audit-log".into(), audit.pid())]);
        let cpu = CpuSnapshot::take(&[("audit-log".to_owned(), audit.pid())]);
        let metrics = format!("{}/metrics", audit.base_url());
        let mut first: Option<Instant> = None;
        let mut recorded;
        loop {
            let text = self.http.get(&metrics).send().await?.text().await?;
            recorded = metric_sum(&text, "eventbank_audit_records_total");
            let taken = recorded
                + metric_sum(&text, "eventbank_audit_skipped_total")
                + metric_sum(&text, "eventbank_audit_duplicates_total")
                + metric_sum(&text, "eventbank_audit_dead_letters_total");
            bar.set_position(taken);
            if taken > 0 && first.is_none() {
                first = Some(Instant::now());
            }
            if taken >= records {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(1800),
                "audit-log took {taken} of {records} records in 30 minutes"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let done = Instant::now();
        let cpu = cpu.since();
        let peaks = peaks.stop();
        audit.stop(STOP_GRACE).await?;
        bar.finish_and_clear();
        self.note_load_rss(&peaks, "audit catch-up");
        let elapsed = done.saturating_duration_since(first.unwrap_or(started));
        self.results.audit = Audit {
            records,
            recorded,
            elapsed_ms: ms(elapsed),
            per_sec: load::per_second(records, elapsed),
            cpu,
        };
        println!(
            "[bench] audit: {records} records ({recorded} recorded) at {} records/s",
            self.results.audit.per_sec
        );
        Ok(())
    }

    /// HTTP, command → visible, transfers: the whole pipeline running.
    async fn load_stages(&mut self) -> anyhow::Result<()> {
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

        let peaks = RssPeaks::start(pids.clone());
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
            let cpu = CpuSnapshot::take(&pids);
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
        self.stage_done("http", started);

        let max = self.results.max_http_per_sec().max(1);
        let started = Instant::now();
        let peaks = RssPeaks::start(pids.clone());
        for percent in self.config.levels.clone() {
            let offered = (max * percent / 100).max(1);
            let workload = Arc::new(VisibleDeposits::new(bank.clone(), self.accounts.clone()));
            let bar = calls(&format!("visible: {percent}% of max ({offered}/s)"));
            let clients = rate_clients(self.config.rate_clients, offered, 2);
            let config = LoadConfig::new(clients, Rate::PerSecond(offered))
                .for_duration(self.config.level_duration);
            let cpu = CpuSnapshot::take(&pids);
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
        self.stage_done("visible", started);

        let started = Instant::now();
        let kafka = self.kafka(&prefix);
        let watcher =
            TransferWatcher::start(&kafka, &format!("{prefix}bench-transfer-watch")).await?;
        let peaks = RssPeaks::start(pids.clone());
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
            let cpu = CpuSnapshot::take(&pids);
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
        for process in [commands, projector, saga] {
            process.stop(STOP_GRACE).await?;
        }
        self.stage_done("transfers", started);
        Ok(())
    }

    /// Synthetic streams straight to a separate `account-events`, a projector
    /// catching up on them, then `POST /admin/rebuild`.
    async fn rebuild(&mut self) -> anyhow::Result<()> {
        let prefix = format!("{}rebuild.", self.prefix);
        let kafka = self.kafka(&prefix);
        kafka::create_system_topics(&kafka).await?;
        let events = self.config.rebuild_events.max(1);
        let accounts = self.config.rebuild_accounts.clamp(1, events);
        let topic = kafka.topics().name(TopicKind::AccountEvents);
        let bar = counter("rebuild: producing synthetic events", events);
        let started = Instant::now();
        produce_streams(&kafka, &topic, events, accounts, &bar).await?;
        let produce_ms = ms(started.elapsed());
        bar.finish_and_clear();

        let bar = spinner("rebuild: raw read of the events (rdkafka)");
        let scan_kafka = kafka.clone();
        let scan_topic = topic.clone();
        let scan = tokio::task::spawn_blocking(move || kafka::scan(&scan_kafka, &[scan_topic], 0))
            .await??;
        bar.finish_and_clear();

        let bar = counter("rebuild: projector catching up", events);
        let started = Instant::now();
        let extra = [("EVENTBANK_PROJECTOR__LAG_INTERVAL_MS", "100".to_owned())];
        let projector = self
            .start(
                "balance-projector",
                &prefix,
                &extra,
                "balance-projector-rebuild",
            )
            .await?;
        let peaks = RssPeaks::start(vec![("balance-projector".into(), projector.pid())]);
        let metrics = format!("{}/metrics", projector.base_url());
        let projector_pid = vec![("balance-projector".to_owned(), projector.pid())];
        let catch_up = self
            .wait_projected(&metrics, 1, events, started, &bar)
            .await?;
        bar.finish_and_clear();

        let bar = counter("rebuild: POST /admin/rebuild", events);
        let bank = Bank::new(
            String::new(),
            projector.base_url(),
            4,
            Duration::from_secs(30),
        );
        let cpu = CpuSnapshot::take(&projector_pid);
        let started = Instant::now();
        let (status, body) = bank
            .post_empty(&projector.base_url(), "/admin/rebuild")
            .await
            .map_err(|e| anyhow::anyhow!("POST /admin/rebuild: {e}"))?;
        anyhow::ensure!(
            status == 202,
            "POST /admin/rebuild answered {status}: {body}"
        );
        let reply: serde_json::Value = serde_json::from_str(&body)?;
        let to = reply["generation"]
            .as_u64()
            .ok_or_else(|| anyhow::anyhow!("POST /admin/rebuild without a generation: {body}"))?;
        let applied = self
            .wait_projected(&metrics, to, events, started, &bar)
            .await?;
        bar.set_message("rebuild: waiting for the switch");
        loop {
            let text = bank
                .get_text(&projector.base_url(), "/admin/generation")
                .await
                .map_err(|e| anyhow::anyhow!("GET /admin/generation: {e}"))?;
            let current: serde_json::Value = serde_json::from_str(&text)?;
            if current["current"].as_u64() == Some(to) {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(3600),
                "the rebuild did not switch within an hour"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let switched = started.elapsed();
        let cpu = cpu.since();
        let peaks = peaks.stop();
        projector.stop(STOP_GRACE).await?;
        bar.finish_and_clear();
        self.note_load_rss(&peaks, "rebuild");
        self.results.rebuild = Rebuild {
            events,
            accounts,
            produce_ms,
            raw_read_ms: ms(scan.elapsed),
            raw_read_per_sec: load::per_second(scan.records, scan.elapsed),
            catch_up_ms: ms(catch_up),
            catch_up_per_sec: load::per_second(events, catch_up),
            rebuild_ms: ms(switched),
            per_sec: load::per_second(events, switched),
            cpu,
        };
        println!(
            "[bench] rebuild: {events} events; catch-up {} events/s, rebuild {} events/s \
             (all applied after {} ms, served after {} ms); raw read {} records/s",
            self.results.rebuild.catch_up_per_sec,
            self.results.rebuild.per_sec,
            ms(applied),
            ms(switched),
            self.results.rebuild.raw_read_per_sec
        );
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

    /// Waits until the projector writing `generation` has seen `events`
    /// events; how long after `since`.
    async fn wait_projected(
        &self,
        metrics: &str,
        generation: u64,
        events: u64,
        since: Instant,
        bar: &ProgressBar,
    ) -> anyhow::Result<Duration> {
        let label = format!("generation=\"{generation}\"");
        loop {
            let text = self.http.get(metrics).send().await?.text().await?;
            let seen: u64 = text
                .lines()
                .filter(|l| {
                    l.starts_with("eventbank_projector_events_total{") && l.contains(&label)
                })
                .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
                .sum();
            bar.set_position(seen);
            if seen >= events {
                let gaps = text
                    .lines()
                    .filter(|l| {
                        l.starts_with("eventbank_projector_events_total{")
                            && l.contains(&label)
                            && !l.contains("outcome=\"applied\"")
                    })
                    .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
                    .sum::<u64>();
                if gaps > 0 {
                    eprintln!(
                        "[bench] warning: {gaps} events of generation {generation} were not applied"
                    );
                }
                return Ok(since.elapsed());
            }
            anyhow::ensure!(
                since.elapsed() < Duration::from_secs(3600),
                "the projector saw {seen} of {events} events in an hour"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Deletes this run's topics, consumer groups, Redis keys and schema.
    async fn clean_up(&self) -> anyhow::Result<()> {
        let kafka = self.kafka("");
        let topics = kafka::delete_prefixed(&kafka, &self.prefix).await?;
        let groups = kafka::delete_groups_prefixed(&kafka, &self.prefix).await?;
        let keys = delete_redis_keys(&self.config.redis, &self.redis_prefix(&self.prefix)).await?;
        drop_schema(&self.config.postgres, &self.schema()).await?;
        println!(
            "[bench] deleted {topics} topics, {groups} consumer groups, {keys} Redis keys, schema {}",
            self.schema()
        );
        Ok(())
    }
}

/// Clients for an open-loop `rate`: enough that requests taking up to
/// `latency_secs` each do not cap the rate (a load engine with too few
/// clients measures itself), at least `floor`, at most 4096.
fn rate_clients(floor: usize, rate: u64, latency_secs: u64) -> usize {
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

#[derive(Debug, Clone, Default)]
struct LoopFigures {
    commits: u64,
    records: u64,
    commit_us: u64,
    /// `eventbank_txn_phase_seconds` sums by phase, in microseconds.
    phases_us: BTreeMap<String, u64>,
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

/// A consumer of every partition of `topic` from offset zero.
fn results_reader(kafka: &KafkaSettings, topic: &str) -> anyhow::Result<BaseConsumer> {
    let consumer: BaseConsumer = kafka
        .consumer_config(&format!("{}bench-results", kafka.topic_prefix))
        .create()?;
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let mut assignment = TopicPartitionList::new();
    for t in metadata.topics() {
        for p in t.partitions() {
            assignment.add_partition_offset(topic, p.id(), Offset::Beginning)?;
        }
    }
    consumer.assign(&assignment)?;
    Ok(consumer)
}

/// Reads until `total` records arrived; when the first and the last came.
fn count_until(
    consumer: &BaseConsumer,
    total: u64,
    bar: &ProgressBar,
) -> anyhow::Result<(Instant, Instant)> {
    let mut seen = 0u64;
    let mut first = None;
    let mut last_seen = Instant::now();
    loop {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(_)) => {
                let now = Instant::now();
                first.get_or_insert(now);
                last_seen = now;
                seen += 1;
                if seen.is_multiple_of(256) {
                    bar.set_position(seen);
                }
                if seen >= total {
                    return Ok((first.unwrap_or(now), now));
                }
            }
            Some(Err(err)) => return Err(err.into()),
            None => anyhow::ensure!(
                last_seen.elapsed() < Duration::from_secs(180),
                "{seen} of {total} results, then none for 3 minutes"
            ),
        }
    }
}

/// `events` valid account events over `accounts` streams (opened, then
/// deposits and withdrawals with gapless sequences and true balances),
/// produced with the services' producer settings in chunks.
async fn produce_streams(
    kafka: &KafkaSettings,
    topic: &str,
    events: u64,
    accounts: u64,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    let producer = kafka::producer(kafka)?;
    let ids: Vec<AccountId> = (0..accounts).map(|_| AccountId::new()).collect();
    let mut balances = vec![0i64; ids.len()];
    let holder = Holder::parse("Rebuild").expect("a valid holder");
    let command = CommandId::new();
    let correlation = CorrelationId::new();
    let chunk = 50_000u64;
    let mut produced = 0u64;
    while produced < events {
        let n = chunk.min(events - produced);
        let mut records = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
        for i in produced..produced + n {
            let index = usize::try_from(i % accounts).unwrap_or(0);
            let sequence = i / accounts + 1;
            let event = if sequence == 1 {
                AccountEvent::AccountOpened {
                    holder: holder.clone(),
                    currency: Currency::EUR,
                }
            } else if sequence.is_multiple_of(4) && balances[index] >= 50 {
                balances[index] -= 50;
                AccountEvent::MoneyWithdrawn {
                    amount: Amount::new(50).expect("a valid amount"),
                    balance_after: Money::new(balances[index]),
                }
            } else {
                balances[index] += 100;
                AccountEvent::MoneyDeposited {
                    amount: Amount::new(100).expect("a valid amount"),
                    balance_after: Money::new(balances[index]),
                }
            };
            let envelope = AccountEventEnvelope {
                schema_version: <AccountEventEnvelope as WireRecord>::CURRENT_VERSION,
                event_id: EventId::new(),
                stream_id: ids[index].into(),
                sequence,
                occurred_at: Utc::now(),
                command_id: command,
                causation_id: None,
                correlation_id: correlation,
                event,
            };
            records.push((wire::encode_key(ids[index]), wire::encode(&envelope)));
        }
        // Fewer in flight than librdkafka's queue holds: sends are enqueued
        // in order, so each stream's events stay in sequence order.
        kafka::produce(&producer, topic, &records, 20_000, Some(bar)).await?;
        produced += n;
    }
    Ok(())
}

struct Perf {
    child: std::process::Child,
    data: PathBuf,
}

/// `perf record -g` on `pid` for `duration` (if perf is installed).
fn start_perf(out: &Path, pid: u32, duration: Duration) -> Option<Perf> {
    let data = out.join("perf-account-command.data");
    let child = std::process::Command::new("perf")
        .args(["record", "-g", "-F", "499", "-o"])
        .arg(&data)
        .args(["-p", &pid.to_string(), "--", "sleep"])
        .arg(duration.as_secs().max(1).to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|err| eprintln!("[bench] perf not available: {err}"))
        .ok()?;
    Some(Perf { child, data })
}

/// Waits for `perf record` to end and writes two flat reports next to the
/// results: CPU by thread (which of librdkafka's, tokio's or the processor's
/// threads burn it) and by symbol.
async fn finish_perf(perf: Perf, out: &Path) {
    let Perf { mut child, data } = perf;
    let reports = tokio::task::spawn_blocking(move || {
        let _ = child.wait();
        let report = |sort: &str| {
            std::process::Command::new("perf")
                .args([
                    "report",
                    "--stdio",
                    "--no-children",
                    "--percent-limit",
                    "0.5",
                ])
                .args(["-g", "none", "--sort", sort, "-i"])
                .arg(&data)
                .output()
        };
        Ok::<_, std::io::Error>((report("comm")?, report("dso,symbol")?))
    })
    .await
    .map_err(std::io::Error::other)
    .and_then(|r| r);
    match reports {
        Ok((by_thread, by_symbol)) if by_thread.status.success() && by_symbol.status.success() => {
            let path = out.join("perf-account-command.txt");
            let mut text = by_thread.stdout;
            text.extend_from_slice(b"\n");
            text.extend_from_slice(&by_symbol.stdout);
            if std::fs::write(&path, text).is_ok() {
                println!("[bench] profile of account-command: {}", path.display());
            }
        }
        Ok((by_thread, _)) => eprintln!(
            "[bench] perf report failed: {}",
            String::from_utf8_lossy(&by_thread.stderr)
        ),
        Err(err) => eprintln!("[bench] perf report failed: {err}"),
    }
}

/// Deletes every Redis key under `prefix`; how many.
async fn delete_redis_keys(url: &str, prefix: &str) -> anyhow::Result<u64> {
    let client = redis::Client::open(url)?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let mut cursor = 0u64;
    let mut deleted = 0u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await?;
        if !keys.is_empty() {
            let n: u64 = redis::cmd("UNLINK")
                .arg(&keys)
                .query_async(&mut conn)
                .await?;
            deleted += n;
        }
        if next == 0 {
            return Ok(deleted);
        }
        cursor = next;
    }
}

async fn drop_schema(url: &str, schema: &str) -> anyhow::Result<()> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let connection = tokio::spawn(connection);
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await?;
    drop(client);
    let _ = connection.await;
    Ok(())
}
