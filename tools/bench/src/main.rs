//! `eventbank-bench`: eventbank's benchmark, one run measuring everything
//! issue 12 asks about, printed as a table of absolute figures and ratios to
//! the raw Kafka ceiling, written to `results.json` with PNG charts.
//!
//! Figures, not a test: nothing is asserted and `scripts/test` never runs
//! it. Run it with `scripts/bench` (which starts the infrastructure if
//! needed and builds the release binaries), or directly:
//!
//! ```text
//! cargo build --release -p account-command -p balance-projector -p transfer-saga \
//!     -p audit-log -p eventbank-bench
//! target/release/eventbank-bench --quick
//! ```
//!
//! The stages, in the order they run, are described in
//! `eventbank_bench::bench`; BENCHMARKS.md has the method and the latest
//! figures. Infrastructure addresses default to `scripts/dev`'s (`.dev/env`
//! variables `EVENTBANK_TEST_KAFKA`, `EVENTBANK_TEST_REDIS`,
//! `EVENTBANK_TEST_POSTGRES`, `EVENTBANK_TEST_KAFKA_LIBS`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use eventbank_bench::bench::{Bench, BenchConfig};

#[derive(Debug, Parser)]
#[command(
    name = "eventbank-bench",
    about = "eventbank's benchmark: ceiling, exactly-once and HTTP throughput, \
             command -> visible, transfers, rebuild, audit, RSS"
)]
struct Args {
    /// A small run (about two minutes): fewer commands, shorter stages, 20,000
    /// rebuild events. Explicit options still win.
    #[arg(long)]
    quick: bool,
    /// Results, charts and service logs go here.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
    /// Where the release binaries of the services are.
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    #[arg(long, env = "EVENTBANK_TEST_KAFKA", default_value = "127.0.0.1:19092")]
    kafka: String,
    #[arg(
        long,
        env = "EVENTBANK_TEST_REDIS",
        default_value = "redis://127.0.0.1:16379"
    )]
    redis: String,
    #[arg(
        long,
        env = "EVENTBANK_TEST_POSTGRES",
        default_value = "postgres://eventbank:eventbank@127.0.0.1:15432/eventbank"
    )]
    postgres: String,
    /// The Kafka jars (ProducerPerformance, ConsumerPerformance).
    #[arg(
        long,
        env = "EVENTBANK_TEST_KAFKA_LIBS",
        default_value = ".cache/kafka-4.1.1"
    )]
    kafka_libs: PathBuf,
    /// Partitions of every topic (the services' default layout has 6).
    #[arg(long, default_value_t = 6)]
    partitions: i32,
    /// Accounts the commands and transfers spread over [default: 1024, quick 128].
    #[arg(long)]
    accounts: Option<usize>,
    /// Commands in the exactly-once backlog [default: 50000, quick 5000].
    #[arg(long)]
    backlog_commands: Option<u64>,
    /// Records ProducerPerformance sends (and ConsumerPerformance reads) [default: 1000000, quick 100000].
    #[arg(long)]
    ceiling_records: Option<u64>,
    /// Client counts of the full-speed HTTP stages.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64,256")]
    http_clients: Vec<usize>,
    /// Seconds per HTTP client count [default: 10, quick 3].
    #[arg(long)]
    http_secs: Option<u64>,
    /// Offered loads of the command -> visible and transfer stages, in % of
    /// the best HTTP commands/s.
    #[arg(long, value_delimiter = ',', default_value = "25,50,75")]
    levels: Vec<u64>,
    /// Seconds per offered load [default: 10, quick 3].
    #[arg(long)]
    level_secs: Option<u64>,
    /// Fewest clients of the fixed-rate stages; more are used where the rate
    /// needs them (rate x 2 s for command -> visible, rate x 4 s for
    /// transfers, at most 4096), so the client count does not cap the rate.
    #[arg(long, default_value_t = 256)]
    rate_clients: usize,
    /// Events the projector rebuilds [default: 1000000, quick 20000].
    #[arg(long)]
    rebuild_events: Option<u64>,
    /// Streams those events spread over [default: events / 100].
    #[arg(long)]
    rebuild_accounts: Option<u64>,
    /// `perf record` account-command during the HTTP stage with this many
    /// clients (0: no profile). Needs `perf`.
    #[arg(long, default_value_t = 0)]
    perf_clients: usize,
    /// Keep this run's topics, Redis keys and schema instead of deleting them.
    #[arg(long)]
    keep: bool,
    /// A setting for every service, as its environment variable without the
    /// `EVENTBANK_` prefix (`KAFKA__TRANSACTIONAL_PRODUCERS=1`); repeatable.
    /// For comparing one knob between runs.
    #[arg(long = "service-setting", value_name = "KEY=VALUE", value_parser = parse_setting)]
    service_settings: Vec<(String, String)>,
    /// Run only these stages (for working on one figure; the table then
    /// shows zeros for the others): idle, backlog, ceiling, audit (needs
    /// backlog), load (http, visible, transfers; needs backlog, which opens
    /// the accounts), rebuild.
    #[arg(long, value_delimiter = ',', default_value = "idle,backlog,ceiling,audit,load,rebuild",
          value_parser = ["idle", "backlog", "ceiling", "audit", "load", "rebuild"])]
    stages: Vec<String>,
}

fn parse_setting(arg: &str) -> Result<(String, String), String> {
    let (key, value) = arg
        .split_once('=')
        .ok_or_else(|| format!("`{arg}` is not KEY=VALUE"))?;
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "`{key}` is not a setting's variable name (A-Z, 0-9, _)"
        ));
    }
    Ok((
        format!("EVENTBANK_{}", key.to_ascii_uppercase()),
        value.to_owned(),
    ))
}

fn pick<T>(explicit: Option<T>, quick: bool, quick_value: T, full_value: T) -> T {
    explicit.unwrap_or(if quick { quick_value } else { full_value })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let q = args.quick;
    let rebuild_events = pick(args.rebuild_events, q, 20_000, 1_000_000);
    let config = BenchConfig {
        kafka: args.kafka,
        redis: args.redis,
        postgres: args.postgres,
        kafka_libs: args.kafka_libs,
        bin_dir: args.bin_dir,
        out_dir: args.out.clone(),
        partitions: args.partitions,
        accounts: pick(args.accounts, q, 128, 1024),
        backlog_commands: pick(args.backlog_commands, q, 5_000, 50_000),
        ceiling_records: pick(args.ceiling_records, q, 100_000, 1_000_000),
        http_clients: args.http_clients,
        http_duration: Duration::from_secs(pick(args.http_secs, q, 3, 10)),
        levels: args.levels,
        level_duration: Duration::from_secs(pick(args.level_secs, q, 3, 10)),
        rate_clients: args.rate_clients,
        rebuild_events,
        rebuild_accounts: args
            .rebuild_accounts
            .unwrap_or((rebuild_events / 100).max(1)),
        perf_clients: (args.perf_clients > 0).then_some(args.perf_clients),
        keep: args.keep,
        service_settings: args.service_settings.clone(),
        stages: args.stages.clone(),
        settings: BTreeMap::new(),
    };
    for stage in ["audit", "load"] {
        anyhow::ensure!(
            !config.runs(stage) || config.runs("backlog"),
            "--stages {stage} needs backlog (it works on the backlog's records or accounts)"
        );
    }
    anyhow::ensure!(config.accounts >= 2, "--accounts must be at least 2");
    anyhow::ensure!(
        !config.http_clients.is_empty() && config.http_clients.iter().all(|c| *c > 0),
        "--http-clients needs at least one client count above 0"
    );
    std::fs::create_dir_all(&config.out_dir)?;
    let mut config = config;
    config.settings = [
        ("quick", q.to_string()),
        ("partitions", config.partitions.to_string()),
        ("accounts", config.accounts.to_string()),
        ("backlog_commands", config.backlog_commands.to_string()),
        ("ceiling_records", config.ceiling_records.to_string()),
        ("http_clients", format!("{:?}", config.http_clients)),
        ("http_secs", config.http_duration.as_secs().to_string()),
        ("levels_percent", format!("{:?}", config.levels)),
        ("level_secs", config.level_duration.as_secs().to_string()),
        ("rate_clients", config.rate_clients.to_string()),
        ("rebuild_events", config.rebuild_events.to_string()),
        ("rebuild_accounts", config.rebuild_accounts.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .chain(args.service_settings.iter().cloned())
    .collect();

    let results = Bench::new(config)?.run().await?;
    println!();
    println!("{}", results.table());
    println!("Targets (issue 12; figures, not assertions):");
    println!();
    println!("{}", results.targets_table());
    Ok(())
}
