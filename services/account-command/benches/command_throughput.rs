//! Figures, not assertions: how fast the processor applies commands exactly
//! once, and what a client waits from request to result.
//!
//! Needs the real broker (`scripts/dev up`), then:
//! `cargo bench -p account-command --bench command_throughput`
//! Knobs: `BENCH_COMMANDS` (default 5000), `BENCH_CONCURRENCY` (default 32),
//! `BENCH_MAX_BATCH` (default 500).
//!
//! 1. Backlog: commands are produced straight to `account-commands`, then the
//!    processor starts; time until every result is on `command-results`. This
//!    is the processor's exactly-once throughput (transaction per batch).
//! 2. Round trip: clients POST deposits over HTTP with `BENCH_CONCURRENCY` in
//!    flight; per-request latency from request to result, p50 and p99.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use account_command::{App, Settings};
use chrono::Utc;
use eventbank_events::{
    AccountCommand, AccountId, Amount, CommandEnvelope, CommandId, CorrelationId, Currency, Holder,
    TopicKind,
};
use eventbank_runtime::Service;
use eventbank_runtime::http::HttpSettings;
use eventbank_runtime::kafka::{KafkaSettings, create_system_topics};
use eventbank_testkit::commands::produce_commands;
use eventbank_testkit::{Isolation, TestEnv};
use futures::StreamExt;
use rdkafka::consumer::{Consumer, StreamConsumer};
use tokio_util::sync::CancellationToken;

/// Integer rate: the workspace keeps floats out of the code on purpose.
fn per_second(count: usize, elapsed: Duration) -> u128 {
    (count as u128 * 1_000_000) / elapsed.as_micros().max(1)
}

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn settings(isolation: &Isolation, api: bool, processor: bool) -> Settings {
    let mut settings = Settings {
        instance: "bench".into(),
        http: HttpSettings {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            limits: Default::default(),
        },
        kafka: TestEnv::get().kafka_settings(&isolation.topic_prefix()),
        auth: eventbank_testkit::auth::settings(),
        ..Settings::default()
    };
    settings.api.enabled = api;
    settings.processor.enabled = processor;
    settings.processor.max_batch = knob("BENCH_MAX_BATCH", 500);
    settings.telemetry.log_filter = "warn".into();
    settings
}

fn envelope(account: AccountId, command: AccountCommand) -> CommandEnvelope {
    CommandEnvelope::new(
        CommandId::new(),
        account,
        CorrelationId::new(),
        Utc::now(),
        command,
    )
}

async fn backlog(commands: usize) {
    let isolation = Isolation::new("bench-backlog");
    let settings = settings(&isolation, false, true);
    let kafka: &KafkaSettings = &settings.kafka;
    create_system_topics(kafka, Duration::from_secs(30))
        .await
        .expect("topics");
    let accounts: Vec<AccountId> = (0..64).map(|_| AccountId::new()).collect();
    let mut records = Vec::with_capacity(commands);
    for account in &accounts {
        records.push(envelope(
            *account,
            AccountCommand::OpenAccount {
                holder: Holder::parse("Bench").expect("holder"),
                currency: Currency::EUR,
            },
        ));
    }
    for i in 0..commands.saturating_sub(accounts.len()) {
        records.push(envelope(
            accounts[i % accounts.len()],
            AccountCommand::Deposit {
                amount: Amount::new(100).expect("amount"),
            },
        ));
    }
    produce_commands(kafka, &records).await;

    let results: StreamConsumer = kafka
        .consumer_config(&isolation.consumer_group("bench-results"))
        .create()
        .expect("consumer");
    results
        .subscribe(&[&kafka.topics().name(TopicKind::CommandResults)])
        .expect("subscribe");

    let started = Instant::now();
    let app = App::build(settings).await.expect("build");
    let shutdown = CancellationToken::new();
    let handle = tokio::spawn(app.run(shutdown.clone()));
    let mut seen = 0;
    while seen < records.len() {
        tokio::time::timeout(Duration::from_secs(120), results.recv())
            .await
            .expect("results keep coming")
            .expect("result");
        seen += 1;
    }
    let elapsed = started.elapsed();
    shutdown.cancel();
    handle.await.expect("join").expect("app");
    println!(
        "backlog: {} commands applied exactly once in {:.2?} (incl. start + group join) = {} commands/s",
        records.len(),
        elapsed,
        per_second(records.len(), elapsed)
    );
}

async fn round_trip(commands: usize, concurrency: usize) {
    let isolation = Isolation::new("bench-http");
    let app = App::build(settings(&isolation, true, true))
        .await
        .expect("build");
    let base = format!("http://127.0.0.1:{}", app.http_addr().expect("addr").port());
    let shutdown = CancellationToken::new();
    let handle = tokio::spawn(app.run(shutdown.clone()));
    let http = eventbank_testkit::http::client();
    let mut accounts = Vec::new();
    for _ in 0..concurrency.max(1) {
        let reply: serde_json::Value = http
            .post(format!("{base}/accounts"))
            .json(&serde_json::json!({"holder": "Bench", "currency": "EUR"}))
            .send()
            .await
            .expect("open")
            .json()
            .await
            .expect("json");
        accounts.push(reply["account_id"].as_str().expect("account id").to_owned());
    }
    let started = Instant::now();
    let mut latencies: Vec<Duration> = futures::stream::iter(0..commands)
        .map(|i| {
            let (http, base, account) = (
                http.clone(),
                base.clone(),
                accounts[i % accounts.len()].clone(),
            );
            async move {
                let sent = Instant::now();
                let response = http
                    .post(format!("{base}/accounts/{account}/deposits"))
                    .json(&serde_json::json!({"amount": 100}))
                    .send()
                    .await
                    .expect("deposit");
                assert_eq!(response.status(), 200, "deposit answered");
                sent.elapsed()
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    shutdown.cancel();
    handle.await.expect("join").expect("app");
    latencies.sort();
    let at = |q: usize| latencies[(latencies.len() * q / 100).min(latencies.len() - 1)];
    println!(
        "round trip: {commands} deposits over HTTP, {concurrency} in flight: {} commands/s, \
         latency p50 {:.1?} p99 {:.1?} max {:.1?}",
        per_second(commands, elapsed),
        at(50),
        at(99),
        latencies[latencies.len() - 1]
    );
}

#[tokio::main]
async fn main() {
    let commands = knob("BENCH_COMMANDS", 5_000);
    let concurrency = knob("BENCH_CONCURRENCY", 32);
    backlog(commands).await;
    round_trip(commands, concurrency).await;
}
