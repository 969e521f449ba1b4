//! Issue 4: the view survives a crash mid-stream and a rebuild under load.
//!
//! Both tests compare a full dump of the Redis keyspace (every key, its type
//! and its value) with a fresh projection of the same topics by a projector
//! with its own consumer group and its own key prefix.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use balance_projector::store::Store;
use balance_projector::{App, Settings};
use common::dump::{Dumped, assert_same, dump};
use common::{LONG, Running, events_total};
use eventbank_events::testing::{
    completed, credited, debited, deposited, failed, opened, refunded, withdrawn,
};
use eventbank_events::{AccountEvent, AccountId, TopicKind, TransferId};
use eventbank_runtime::Service;
use eventbank_testkit::{Isolation, RecordWriter, eventually};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};

const ACCOUNTS: usize = 20;

fn settings(isolation: &Isolation, group: &str, key_prefix: &str) -> Settings {
    let mut settings = common::settings(isolation);
    settings.redis.key_prefix = key_prefix.to_owned();
    settings.projector.consumer_group = group.to_owned();
    settings.projector.lag_interval_ms = 100;
    // The crash test rewinds the group's commits from outside after the
    // kill, which Kafka allows only once the group is empty; a killed static
    // member stays in it until its session times out (the point of static
    // membership), a dynamic one leaves as its consumer is dropped.
    settings.projector.static_membership = false;
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
    writer: Arc<RecordWriter>,
    index: usize,
    others: Vec<AccountId>,
    account: AccountId,
    events: u64,
    pace: Pace,
    stop: CancellationToken,
) -> StreamEnd {
    let mut seq = 1;
    writer
        .account(account, seq, opened(&format!("Holder {index}")))
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
                writer.account(account, seq, deposited(a, balance)).await;
            }
            2 => {
                let a = 1 + (step as i64 * 3) % 50;
                balance -= a;
                writer.account(account, seq, withdrawn(a, balance)).await;
            }
            3 | 0 => {
                let t = TransferId::new();
                let a = 1 + (step as i64) % 40;
                balance -= a;
                writer
                    .account(account, seq, debited(t, other, a, balance))
                    .await;
                if step % 6 == 3 {
                    writer.transfer(t, 1, completed(account, other, a)).await;
                } else {
                    seq += 1;
                    balance += a;
                    writer.account(account, seq, refunded(t, a, balance)).await;
                    writer.transfer(t, 1, failed(account, other, a)).await;
                }
                transfers.push(t);
            }
            _ => {
                let a = 1 + (step as i64) % 30;
                balance += a;
                writer
                    .account(account, seq, credited(TransferId::new(), other, a, balance))
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
            .account(account, seq + 2, deposited(1, balance + 1))
            .await;
        writer
            .account(account, seq + 3, deposited(1, balance + 2))
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
    writer: Arc<RecordWriter>,
    stop: CancellationToken,
    _stop_on_drop: DropGuard,
    tasks: Vec<JoinHandle<StreamEnd>>,
}

impl Producers {
    fn start(settings: &Settings, events_per_account: u64, pace: Pace) -> Self {
        let writer = Arc::new(RecordWriter::new(&settings.kafka));
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
        self.writer.produced()
    }

    async fn wait_for_backlog(&self, records: u64) {
        eventually("a backlog", LONG, || async {
            (self.produced() >= records).then_some(())
        })
        .await;
    }

    fn finished(&self) -> bool {
        self.tasks.iter().all(JoinHandle::is_finished)
    }

    /// Waits for every stream to end (after `stop`, if asked to); returns
    /// their ends and how many records were produced in all.
    async fn finish(self, stop: bool) -> (Vec<StreamEnd>, u64) {
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
        (ends, self.writer.produced())
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_mid_stream_and_restart_equals_a_fresh_rebuild() {
    let isolation = Isolation::new("crash");
    let settings = settings(&isolation, "projector", &isolation.redis_prefix());
    // Small batches, so a kill lands between many Redis writes and commits.
    let mut crash_settings = settings.clone();
    crash_settings.projector.max_batch = 20;
    let go = CancellationToken::new();
    let crashing = Crashable::start(crash_settings, go.clone()).await;

    // 20 accounts x 200 account events, plus their transfer events, over
    // several seconds.
    let pace = Pace {
        fast_first: 0,
        pause: Duration::from_millis(40),
    };
    let producers = Producers::start(&settings, 200, pace);
    // Start projecting once there is a large backlog, so the kill lands while
    // the projector is busy with batches (it keeps up with the stream
    // otherwise, and would mostly be killed idle).
    producers.wait_for_backlog(2000).await;
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
    let (ends, total) = producers.finish(false).await;
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
    let restarted = Running::start_ready(settings.clone()).await;
    wait_for_ends("the restarted projector caught up", &restarted.store, &ends).await;

    // Events the restart read again although the crashed one had applied
    // them (written to Redis, offsets never committed).
    let metrics = restarted.metrics().await.expect("GET /metrics");
    let reapplied = events_total(&metrics, "skipped");
    assert!(reapplied > 0, "nothing was read twice: {metrics}");

    let fresh = Running::start_ready(fresh_settings(&isolation)).await;
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

/// A graceful stop while batches stream in: the projector receives the next
/// batch while it applies the current one, and commits only what it has
/// applied. A record committed but not applied would be skipped after the
/// restart (the view would stall on the gap); one applied but not committed
/// would be read twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stopped_mid_stream_and_restarted_loses_and_reads_twice_nothing() {
    let isolation = Isolation::new("stop");
    let settings = settings(&isolation, "projector", &isolation.redis_prefix());
    // Small batches: many apply-while-receiving rounds before the stop.
    let mut busy = settings.clone();
    busy.projector.max_batch = 20;
    let pace = Pace {
        fast_first: 0,
        pause: Duration::from_millis(40),
    };
    eventbank_runtime::kafka::ensure_system_topics(&settings.kafka, LONG)
        .await
        .expect("topics");
    let producers = Producers::start(&settings, 200, pace);
    producers.wait_for_backlog(2000).await;
    let stopping = Running::start(busy).await;
    let started = std::time::Instant::now();
    loop {
        let applied = events_total(&stopping.metrics().await.unwrap_or_default(), "applied");
        if applied >= 500 {
            break;
        }
        assert!(started.elapsed() < LONG, "the projector never applied");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(
        !producers.finished(),
        "the stream ended before the stop; the test would prove nothing"
    );
    stopping.stop().await;
    let (ends, _) = producers.finish(false).await;

    let restarted = Running::start_ready(settings.clone()).await;
    wait_for_ends("the restarted projector caught up", &restarted.store, &ends).await;
    let metrics = restarted.metrics().await.expect("GET /metrics");
    assert_eq!(
        events_total(&metrics, "skipped"),
        0,
        "the restart read applied events again: {metrics}"
    );

    let fresh = Running::start_ready(fresh_settings(&isolation)).await;
    wait_for_ends("the fresh projection caught up", &fresh.store, &ends).await;
    let live = dump(&settings.redis.key_prefix).await;
    let rebuilt = dump(&fresh_settings(&isolation).redis.key_prefix).await;
    assert_same(&live, &rebuilt);
    restarted.stop().await;
    fresh.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rebuild_while_writes_continue_ends_equal_to_the_live_view() {
    let isolation = Isolation::new("rebuild-load");
    let settings = settings(&isolation, "projector", &isolation.redis_prefix());
    let live = Running::start_ready(settings.clone()).await;

    // A backlog for the rebuild to read through (20 events per account at
    // once), then open-ended streams (capped) until told to stop, at a
    // sustained rate (a pause of 10 ms per account stream: several hundred
    // records/s). The rebuild must still switch: it does once it trails the
    // log by at most one batch, not only at a moment of zero lag.
    let pace = Pace {
        fast_first: 20,
        pause: Duration::from_millis(10),
    };
    let producers = Producers::start(&settings, 100_000, pace);
    producers.wait_for_backlog(400).await;

    let (status, body) = live.post("/admin/rebuild").await;
    assert_eq!(status, 202);
    assert_eq!(body["generation"], 2);
    let produced_at_rebuild = producers.produced();

    live.wait_generation(2).await;
    let produced_at_switch = producers.produced();
    assert!(
        !producers.finished(),
        "writes must still be going on at the switch"
    );
    // Keep writing a little after the switch, into the new generation.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (ends, total) = producers.finish(true).await;

    let current = live.store.serving().await.unwrap();
    assert_eq!(current.generation(), 2);
    wait_for_ends("the live view caught up", &current, &ends).await;

    let fresh = Running::start_ready(fresh_settings(&isolation)).await;
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
