//! Issue 4: the view survives a crash mid-stream and a rebuild under load.
//!
//! Both tests compare a full dump of the Redis keyspace (every key, its type
//! and its value) with a fresh projection of the same topics by a projector
//! with its own consumer group and its own key prefix.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use balance_projector::store::Store;
use balance_projector::{App, Settings};
use chrono::Utc;
use eventbank_events::{
    AccountEvent, AccountEventEnvelope, AccountId, Amount, CommandId, CorrelationId, Currency,
    EventEnvelope, EventId, Holder, Money, TopicKind, TransferEvent, TransferEventEnvelope,
    TransferFailureReason, TransferId, wire,
};
use eventbank_runtime::Service;
use eventbank_runtime::http::HttpSettings;
use eventbank_testkit::{Isolation, TestEnv, eventually};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};

const LONG: Duration = Duration::from_secs(45);
const ACCOUNTS: usize = 20;

fn settings(isolation: &Isolation, group: &str, key_prefix: &str) -> Settings {
    let env = TestEnv::get();
    let mut settings = Settings {
        instance: "test".to_owned(),
        http: HttpSettings {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        },
        kafka: env.kafka_settings(&isolation.topic_prefix()),
        ..Settings::default()
    };
    settings.redis.url = env.redis_url.clone();
    settings.redis.key_prefix = key_prefix.to_owned();
    settings.projector.consumer_group = group.to_owned();
    settings.projector.lag_interval_ms = 100;
    settings
}

/// The same topics, another consumer group and a key prefix that does not
/// overlap the main one (`{run_id}-fresh:` is not under `{run_id}:`).
fn fresh_settings(isolation: &Isolation) -> Settings {
    settings(
        isolation,
        "fresh-projection",
        &format!("{}-fresh:", isolation.run_id),
    )
}

/// A projector in the test's runtime, stopped gracefully (or by its drop
/// guard if the test panics).
struct Running {
    base: String,
    store: Store,
    shutdown: CancellationToken,
    _stop_on_drop: DropGuard,
    handle: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    async fn start(settings: Settings) -> Self {
        let app = App::build(settings).await.expect("build balance-projector");
        let addr = app.http_addr().expect("bound");
        let store = app.store().clone();
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(app.run(shutdown.clone()));
        Self {
            base: format!("http://127.0.0.1:{}", addr.port()),
            store,
            _stop_on_drop: shutdown.clone().drop_guard(),
            shutdown,
            handle,
        }
    }

    async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(LONG, self.handle)
            .await
            .expect("stops")
            .expect("no panic")
            .expect("clean stop");
    }
}

async fn wait_ready(base: &str) {
    eventually("projector ready", LONG, || async {
        let status = reqwest::get(format!("{base}/readyz")).await.ok()?.status();
        (status == 200).then_some(())
    })
    .await;
}

/// A projector in a runtime of its own, so it can be killed with everything
/// it spawned (the serving projector, the lag loop, Redis and Kafka clients)
/// dropped at whatever await point they are at: no graceful stop, no final
/// offset commit. Aborting only the task running `App::run` would not do:
/// its drop guard cancels the projectors, which then finish their batch and
/// commit, like a graceful shutdown.
struct Crashable {
    runtime: Option<tokio::runtime::Runtime>,
    handle: JoinHandle<anyhow::Result<()>>,
}

impl Crashable {
    /// Builds the app (creating the topics); it runs once `go` is cancelled.
    async fn start(settings: Settings, go: CancellationToken) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let app = runtime
            .spawn(App::build(settings))
            .await
            .expect("no panic")
            .expect("build balance-projector");
        // Never cancelled: the only way this one stops is the crash.
        let handle = runtime.spawn(async move {
            go.cancelled().await;
            app.run(CancellationToken::new()).await
        });
        Self {
            runtime: Some(runtime),
            handle,
        }
    }

    fn crash(mut self) {
        self.handle.abort();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Drop for Crashable {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

struct Writer {
    producer: FutureProducer,
    accounts: String,
    transfers: String,
    produced: AtomicU64,
}

impl Writer {
    fn new(settings: &Settings) -> Self {
        let topics = settings.kafka.topics();
        Self {
            producer: settings.kafka.producer().expect("producer"),
            accounts: topics.name(TopicKind::AccountEvents),
            transfers: topics.name(TopicKind::TransferEvents),
            produced: AtomicU64::new(0),
        }
    }

    async fn raw(&self, topic: &str, key: &[u8], value: &[u8]) {
        self.producer
            .send(
                FutureRecord::to(topic).key(key).payload(value),
                Duration::from_secs(10),
            )
            .await
            .expect("produce");
        self.produced.fetch_add(1, Ordering::SeqCst);
    }

    async fn account(&self, account: AccountId, sequence: u64, event: AccountEvent) {
        let envelope: AccountEventEnvelope = envelope(account.into(), sequence, event);
        self.raw(
            &self.accounts,
            &wire::encode_key(account),
            &wire::encode(&envelope),
        )
        .await;
    }

    async fn transfer(&self, transfer: TransferId, sequence: u64, event: TransferEvent) {
        let envelope: TransferEventEnvelope = envelope(transfer.into(), sequence, event);
        self.raw(
            &self.transfers,
            &wire::encode_key(transfer),
            &wire::encode(&envelope),
        )
        .await;
    }
}

fn envelope<E>(stream: eventbank_events::StreamId, sequence: u64, event: E) -> EventEnvelope<E> {
    EventEnvelope {
        schema_version: 1,
        event_id: EventId::new(),
        stream_id: stream,
        sequence,
        occurred_at: Utc::now(),
        command_id: CommandId::new(),
        causation_id: None,
        correlation_id: CorrelationId::new(),
        event,
    }
}

fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

fn amount(minor: i64) -> Amount {
    Amount::new(minor).unwrap()
}

/// What one account's stream ended as.
#[derive(Debug, Clone)]
struct StreamEnd {
    account: AccountId,
    /// The version the view must reach (a stalled stream stops earlier).
    version: u64,
    /// Ends with a sequence gap, so it must show in `stalled:acct`.
    stalled: bool,
    transfers: Vec<TransferId>,
}

/// One account's events, in order: opened, then deposits, withdrawals,
/// transfers out (completed, or failed and refunded, with the transfer's own
/// event on `transfer-events`) and in, until `events` were written or `stop`.
/// Account 0 ends closed; account 1 has a sequence gap (a stalled stream).
async fn stream(
    writer: Arc<Writer>,
    index: usize,
    others: Vec<AccountId>,
    account: AccountId,
    events: u64,
    pace: Pace,
    stop: CancellationToken,
) -> StreamEnd {
    let mut seq = 1;
    writer
        .account(
            account,
            seq,
            AccountEvent::AccountOpened {
                holder: Holder::parse(&format!("Holder {index}")).unwrap(),
                currency: eur(),
            },
        )
        .await;
    let mut balance = 0_i64;
    let mut transfers = Vec::new();
    let mut step = 0_u64;
    while seq < events && !stop.is_cancelled() {
        step += 1;
        seq += 1;
        let other = others[(index + step as usize) % others.len()];
        match step % 6 {
            1 | 4 => {
                let a = 100 + (step as i64 * 7) % 500;
                balance += a;
                writer
                    .account(
                        account,
                        seq,
                        AccountEvent::MoneyDeposited {
                            amount: amount(a),
                            balance_after: Money::new(balance),
                        },
                    )
                    .await;
            }
            2 => {
                let a = 1 + (step as i64 * 3) % 50;
                balance -= a;
                writer
                    .account(
                        account,
                        seq,
                        AccountEvent::MoneyWithdrawn {
                            amount: amount(a),
                            balance_after: Money::new(balance),
                        },
                    )
                    .await;
            }
            3 | 0 => {
                let t = TransferId::new();
                let a = 1 + (step as i64) % 40;
                balance -= a;
                writer
                    .account(
                        account,
                        seq,
                        AccountEvent::TransferDebited {
                            transfer_id: t,
                            to: other,
                            amount: amount(a),
                            currency: eur(),
                            balance_after: Money::new(balance),
                        },
                    )
                    .await;
                if step % 6 == 3 {
                    writer
                        .transfer(
                            t,
                            1,
                            TransferEvent::TransferCompleted {
                                from: account,
                                to: other,
                                amount: amount(a),
                                currency: eur(),
                            },
                        )
                        .await;
                } else {
                    seq += 1;
                    balance += a;
                    writer
                        .account(
                            account,
                            seq,
                            AccountEvent::TransferRefunded {
                                transfer_id: t,
                                amount: amount(a),
                                reason: TransferFailureReason::AccountClosed,
                                balance_after: Money::new(balance),
                            },
                        )
                        .await;
                    writer
                        .transfer(
                            t,
                            1,
                            TransferEvent::TransferFailed {
                                from: account,
                                to: other,
                                amount: amount(a),
                                currency: eur(),
                                reason: TransferFailureReason::AccountClosed,
                            },
                        )
                        .await;
                }
                transfers.push(t);
            }
            _ => {
                let a = 1 + (step as i64) % 30;
                balance += a;
                writer
                    .account(
                        account,
                        seq,
                        AccountEvent::TransferCredited {
                            transfer_id: TransferId::new(),
                            from: other,
                            amount: amount(a),
                            balance_after: Money::new(balance),
                        },
                    )
                    .await;
            }
        }
        if seq > pace.fast_first {
            tokio::time::sleep(pace.pause).await;
        }
    }
    let mut version = seq;
    if index == 0 {
        seq += 1;
        writer
            .account(account, seq, AccountEvent::AccountClosed {})
            .await;
        version = seq;
    } else if index == 1 {
        // A gap: seq + 1 is missing, so neither this nor the next is applied.
        writer
            .account(
                account,
                seq + 2,
                AccountEvent::MoneyDeposited {
                    amount: amount(1),
                    balance_after: Money::new(balance + 1),
                },
            )
            .await;
        writer
            .account(
                account,
                seq + 3,
                AccountEvent::MoneyDeposited {
                    amount: amount(1),
                    balance_after: Money::new(balance + 2),
                },
            )
            .await;
    }
    StreamEnd {
        account,
        version,
        stalled: index == 1,
        transfers,
    }
}

/// How fast each account's stream is written: its first `fast_first`
/// events at once, then one every `pause` (plus the produce round trip).
#[derive(Debug, Clone, Copy)]
struct Pace {
    fast_first: u64,
    pause: Duration,
}

/// Background producers, one task per account; stopped on drop.
struct Producers {
    writer: Arc<Writer>,
    stop: CancellationToken,
    _stop_on_drop: DropGuard,
    tasks: Vec<JoinHandle<StreamEnd>>,
}

impl Producers {
    fn start(writer: Arc<Writer>, events_per_account: u64, pace: Pace) -> Self {
        let accounts: Vec<AccountId> = (0..ACCOUNTS).map(|_| AccountId::new()).collect();
        let stop = CancellationToken::new();
        let tasks = accounts
            .iter()
            .enumerate()
            .map(|(index, account)| {
                tokio::spawn(stream(
                    Arc::clone(&writer),
                    index,
                    accounts.clone(),
                    *account,
                    events_per_account,
                    pace,
                    stop.clone(),
                ))
            })
            .collect();
        Self {
            writer,
            _stop_on_drop: stop.clone().drop_guard(),
            stop,
            tasks,
        }
    }

    fn produced(&self) -> u64 {
        self.writer.produced.load(Ordering::SeqCst)
    }

    fn finished(&self) -> bool {
        self.tasks.iter().all(JoinHandle::is_finished)
    }

    /// Waits for every stream to end (after `stop`, if asked to).
    async fn finish(self, stop: bool) -> Vec<StreamEnd> {
        if stop {
            self.stop.cancel();
        }
        let mut ends = Vec::new();
        for task in self.tasks {
            ends.push(
                tokio::time::timeout(LONG, task)
                    .await
                    .expect("producer finishes")
                    .expect("producer did not panic"),
            );
        }
        ends
    }
}

/// Waits until `store` (at its generation) shows every stream at its end.
async fn wait_for_ends(what: &str, store: &Store, ends: &[StreamEnd]) {
    eventually(what, LONG, || async {
        for end in ends {
            let account = store.account(&end.account.to_string()).await.ok()??;
            if account.version != end.version {
                return None;
            }
            if end.stalled
                && !store
                    .stalled_accounts()
                    .await
                    .ok()?
                    .contains_key(&end.account.to_string())
            {
                return None;
            }
            for transfer in &end.transfers {
                let view = store.transfer(&transfer.to_string()).await.ok()??;
                if view.status == "pending" {
                    return None;
                }
            }
        }
        Some(())
    })
    .await;
}

/// Moves the group's committed offsets back to half of what they are, as
/// if the last commits of a crashed projector had never reached Kafka while
/// its Redis writes had. Returns how many offsets were rewound. The group
/// must have no live member.
fn rewind_committed(settings: &Settings) -> i64 {
    let group =
        balance_projector::projector::consumer_group(&settings.kafka, &settings.projector, 1);
    let consumer: BaseConsumer = settings
        .kafka
        .consumer_config(&group)
        .create()
        .expect("consumer");
    let topics = settings.kafka.topics();
    let mut all = TopicPartitionList::new();
    for kind in [TopicKind::AccountEvents, TopicKind::TransferEvents] {
        for partition in 0..settings.kafka.topics.partitions {
            all.add_partition(&topics.name(kind), partition);
        }
    }
    let committed = consumer
        .committed_offsets(all, Duration::from_secs(10))
        .expect("committed offsets");
    let mut rewound = TopicPartitionList::new();
    let mut total = 0;
    for elem in committed.elements() {
        if let Offset::Offset(offset) = elem.offset() {
            total += offset - offset / 2;
            rewound
                .add_partition_offset(elem.topic(), elem.partition(), Offset::Offset(offset / 2))
                .unwrap();
        }
    }
    consumer
        .commit(&rewound, CommitMode::Sync)
        .expect("rewind the committed offsets");
    total
}

/// A Redis value, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Dumped {
    String(String),
    Hash(BTreeMap<String, String>),
    /// Members with their scores, in Redis' order (score, then member).
    SortedSet(Vec<(String, String)>),
    Other(String),
}

/// Every key under `prefix` (stripped from the names), with its value.
async fn dump(prefix: &str) -> BTreeMap<String, Dumped> {
    let client = redis::Client::open(TestEnv::get().redis_url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut keys: Vec<String> = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await
            .unwrap();
        keys.extend(batch);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    keys.sort();
    keys.dedup();
    let mut out = BTreeMap::new();
    for key in keys {
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        let value = match kind.as_str() {
            "string" => Dumped::String(
                redis::cmd("GET")
                    .arg(&key)
                    .query_async(&mut conn)
                    .await
                    .unwrap(),
            ),
            "hash" => Dumped::Hash(
                redis::cmd("HGETALL")
                    .arg(&key)
                    .query_async(&mut conn)
                    .await
                    .unwrap(),
            ),
            "zset" => Dumped::SortedSet(
                redis::cmd("ZRANGE")
                    .arg(&key)
                    .arg(0)
                    .arg(-1)
                    .arg("WITHSCORES")
                    .query_async(&mut conn)
                    .await
                    .unwrap(),
            ),
            other => Dumped::Other(other.to_owned()),
        };
        out.insert(key[prefix.len()..].to_owned(), value);
    }
    out
}

/// Asserts two dumps are equal, naming the first differences.
fn assert_same(live: &BTreeMap<String, Dumped>, fresh: &BTreeMap<String, Dumped>) {
    let mut differences = Vec::new();
    for key in live.keys().chain(fresh.keys()) {
        let (a, b) = (live.get(key), fresh.get(key));
        if a != b && !differences.iter().any(|(k, _, _)| k == key) {
            differences.push((key.clone(), a.cloned(), b.cloned()));
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {}/{} keys differ (live vs fresh); first: {:#?}",
        differences.len(),
        live.len(),
        fresh.len(),
        &differences[..differences.len().min(5)]
    );
    assert!(!live.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_mid_stream_and_restart_equals_a_fresh_rebuild() {
    let isolation = Isolation::new("crash");
    let settings = settings(&isolation, "projector", &isolation.redis_prefix());
    // Small batches, so a kill lands between many Redis writes and commits.
    let mut crash_settings = settings.clone();
    crash_settings.projector.max_batch = 20;
    let go = CancellationToken::new();
    let crashing = Crashable::start(crash_settings, go.clone()).await;

    let writer = Arc::new(Writer::new(&settings));
    // 20 accounts x 200 account events, plus their transfer events, over
    // several seconds.
    let pace = Pace {
        fast_first: 0,
        pause: Duration::from_millis(40),
    };
    let producers = Producers::start(Arc::clone(&writer), 200, pace);
    // Start projecting once there is a large backlog, so the kill lands while
    // the projector is busy with batches (it keeps up with the stream
    // otherwise, and would mostly be killed idle).
    eventually("a backlog", LONG, || async {
        (producers.produced() >= 2000).then_some(())
    })
    .await;
    go.cancel();
    let observer = Store::connect(&settings.redis.url, &settings.redis.key_prefix)
        .await
        .expect("redis");
    let started = std::time::Instant::now();
    loop {
        let accounts = observer.scan_accounts().await.expect("scan");
        if accounts.iter().map(|a| a.version).sum::<u64>() >= 1 {
            break;
        }
        assert!(started.elapsed() < LONG, "the projector never applied");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(
        !producers.finished(),
        "the stream ended before the crash; the test would prove nothing"
    );
    let produced_at_crash = producers.produced();
    crashing.crash();
    let applied_at_crash: u64 = observer
        .scan_accounts()
        .await
        .unwrap()
        .iter()
        .map(|a| a.version)
        .sum();
    let ends = producers.finish(false).await;
    let total = writer.produced.load(Ordering::SeqCst);
    assert!(total >= 2000, "only {total} events");
    assert!(
        produced_at_crash < total,
        "{produced_at_crash} of {total} produced at the crash"
    );

    // Whether or not the kill landed between a batch's Redis writes and its
    // offset commit (it is quick, so mostly it does not), make that state
    // certain and large: rewind the group's commits to half.
    let rewound = {
        let settings = settings.clone();
        tokio::task::spawn_blocking(move || rewind_committed(&settings))
            .await
            .unwrap()
    };
    assert!(rewound > 0);

    // Restart on the same group and keyspace.
    let restarted = Running::start(settings.clone()).await;
    wait_ready(&restarted.base).await;
    wait_for_ends("the restarted projector caught up", &restarted.store, &ends).await;

    // Events the restart read again although the crashed one had applied
    // them (written to Redis, offsets never committed).
    let metrics = reqwest::get(format!("{}/metrics", restarted.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let reapplied: u64 = metrics
        .lines()
        .filter(|l| l.starts_with("eventbank_projector_events_total") && l.contains("skipped"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert!(reapplied > 0, "nothing was read twice: {metrics}");

    let fresh = Running::start(fresh_settings(&isolation)).await;
    wait_ready(&fresh.base).await;
    wait_for_ends("the fresh projection caught up", &fresh.store, &ends).await;

    // The whole keyspace, including `generation` and `generations_allocated`
    // (both 1 on either side).
    let live = dump(&settings.redis.key_prefix).await;
    let rebuilt = dump(&fresh_settings(&isolation).redis.key_prefix).await;
    eprintln!(
        "crash: {produced_at_crash}/{total} produced, versions summing to {applied_at_crash} \
         applied at the crash; {rewound} offsets rewound, {reapplied} events re-read after the \
         restart; {} keys compared",
        live.len()
    );
    assert_same(&live, &rebuilt);
    assert_eq!(live.get("generation"), Some(&Dumped::String("1".into())));
    assert!(
        live.contains_key("g1:stalled:acct"),
        "the gap is in the view"
    );

    restarted.stop().await;
    fresh.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rebuild_while_writes_continue_ends_equal_to_the_live_view() {
    let isolation = Isolation::new("rebuild-load");
    let settings = settings(&isolation, "projector", &isolation.redis_prefix());
    let live = Running::start(settings.clone()).await;
    wait_ready(&live.base).await;

    let writer = Arc::new(Writer::new(&settings));
    // A backlog for the rebuild to read through (20 events per account at
    // once), then open-ended streams (capped) until told to stop, at a
    // sustained rate (a pause of 10 ms per account stream: several hundred
    // records/s). The rebuild must still switch: it does once it trails the
    // log by at most one batch, not only at a moment of zero lag.
    let pace = Pace {
        fast_first: 20,
        pause: Duration::from_millis(10),
    };
    let producers = Producers::start(Arc::clone(&writer), 100_000, pace);
    eventually("a backlog", LONG, || async {
        (producers.produced() >= 400).then_some(())
    })
    .await;

    let response = reqwest::Client::new()
        .post(format!("{}/admin/rebuild", live.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["generation"], 2);
    let produced_at_rebuild = producers.produced();

    eventually("switched to generation 2", LONG, || async {
        let body: Value = reqwest::get(format!("{}/admin/generation", live.base))
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (body["current"] == 2).then_some(())
    })
    .await;
    let produced_at_switch = producers.produced();
    assert!(
        !producers.finished(),
        "writes must still be going on at the switch"
    );
    // Keep writing a little after the switch, into the new generation.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ends = producers.finish(true).await;
    let total = writer.produced.load(Ordering::SeqCst);

    let current = live.store.serving().await.unwrap();
    assert_eq!(current.generation(), 2);
    wait_for_ends("the live view caught up", &current, &ends).await;

    let fresh = Running::start(fresh_settings(&isolation)).await;
    wait_ready(&fresh.base).await;
    wait_for_ends("the fresh projection caught up", &fresh.store, &ends).await;

    // Only the generations' own keyspaces: the live side also has the old
    // generation 1 and `generation`/`generations_allocated` = 2.
    let live_view = dump(current.base()).await;
    let rebuilt = dump(fresh.store.base()).await;
    eprintln!(
        "rebuild: started at {produced_at_rebuild}, switched at {produced_at_switch}, \
         {total} events in all; {} keys compared",
        live_view.len()
    );
    assert!(
        produced_at_switch > produced_at_rebuild,
        "no write during the rebuild"
    );
    assert_same(&live_view, &rebuilt);
    assert!(
        live_view.contains_key("stalled:acct"),
        "the gap is in the view"
    );

    live.stop().await;
    fresh.stop().await;
}
