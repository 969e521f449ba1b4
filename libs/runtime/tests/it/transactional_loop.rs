//! The transactional loop against the real broker: each input record's outputs
//! appear exactly once, poison records go to the dead-letter topic with their
//! reason while the partition moves on, and a restarted loop resumes from its
//! committed offsets with its restored state.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use eventbank_events::TopicKind;
use eventbank_events::dead_letter::HEADER_REASON;
use eventbank_runtime::http::{MetricsRegistry, Readiness};
use eventbank_runtime::kafka::transactional::{
    HandleError, LoopConfig, LoopMetrics, Processor, ProcessorError, TopicPartition, spawn_loop,
};
use eventbank_runtime::kafka::{
    KafkaSettings, OutputRecord, OwnedRecord, ensure_topics, read_partition,
};
use eventbank_testkit::{Isolation, PrivateKafka, TestEnv, eventually};
use rdkafka::producer::{FutureRecord, Producer};
use rdkafka::util::Timeout;
use tokio_util::sync::CancellationToken;

const TIMEOUT: Duration = Duration::from_secs(30);
const STALL: Duration = Duration::from_secs(15);

/// Numbers each record per partition, keeping the count in the state topic: a
/// replay that was applied twice would show as a skipped or repeated number.
struct Numbering {
    output: String,
    state: String,
    committed: HashMap<i32, u64>,
    staged: HashMap<i32, u64>,
    faults: Faults,
}

/// What a test makes the processor do wrong, switched on while it runs.
#[derive(Clone, Default)]
struct Faults {
    /// Set: the next tick stalls (a long GC pause, a frozen node) past the
    /// group's max.poll.interval, then emits `zombie`.
    stall_tick: Arc<AtomicBool>,
    /// Set: handling the record `hold` blocks, with the transaction open
    /// and the outputs of the records before it sent, until `released`
    /// (a process frozen mid-transaction; in-process nothing can kill it).
    hold: Arc<AtomicBool>,
    /// Set: restoring blocks until `released`, and says so in `restoring`.
    hold_restore: Arc<AtomicBool>,
    restoring: Arc<AtomicBool>,
    released: Arc<AtomicBool>,
}

impl Faults {
    fn wait_for_release(&self) {
        while !self.released.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Processor for Numbering {
    fn assigned(
        &mut self,
        settings: &KafkaSettings,
        partitions: &[TopicPartition],
    ) -> Result<(), ProcessorError> {
        if self.faults.hold_restore.swap(false, Ordering::SeqCst) {
            self.faults.restoring.store(true, Ordering::SeqCst);
            self.faults.wait_for_release();
        }
        for tp in partitions {
            let records = read_partition(settings, &self.state, tp.partition, TIMEOUT)
                .map_err(|err| ProcessorError::new(err.to_string()))?;
            let count = records
                .last()
                .and_then(|r| r.payload.as_ref())
                .map(|p| String::from_utf8_lossy(p).parse().unwrap_or(0))
                .unwrap_or(0);
            self.committed.insert(tp.partition, count);
        }
        Ok(())
    }

    fn revoked(&mut self, partitions: &[TopicPartition]) {
        for tp in partitions {
            self.committed.remove(&tp.partition);
        }
    }

    fn handle(
        &mut self,
        record: &OwnedRecord,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(), HandleError> {
        let payload = record.payload.clone().unwrap_or_default();
        if payload == b"hold" && self.faults.hold.swap(false, Ordering::SeqCst) {
            self.faults.wait_for_release();
        }
        if payload == b"poison" {
            return Err(HandleError::dead_letter("payload is poison"));
        }
        if payload == b"huge" {
            // An output Kafka refuses whatever happens (over message.max.bytes).
            out.push(OutputRecord {
                topic: self.output.clone(),
                partition: Some(record.partition),
                key: b"huge".to_vec(),
                payload: Some(vec![b'x'; 2_000_000]),
                headers: Vec::new(),
            });
            return Ok(());
        }
        let count = self
            .staged
            .get(&record.partition)
            .or_else(|| self.committed.get(&record.partition))
            .copied()
            .unwrap_or(0)
            + 1;
        self.staged.insert(record.partition, count);
        out.push(OutputRecord {
            topic: self.output.clone(),
            partition: Some(record.partition),
            key: record.key.clone().unwrap_or_default(),
            payload: Some(format!("{count}:{}", String::from_utf8_lossy(&payload)).into_bytes()),
            headers: Vec::new(),
        });
        out.push(OutputRecord {
            topic: self.state.clone(),
            partition: Some(record.partition),
            key: b"count".to_vec(),
            payload: Some(count.to_string().into_bytes()),
            headers: Vec::new(),
        });
        Ok(())
    }

    fn tick(&mut self, out: &mut Vec<OutputRecord>) -> Result<(), ProcessorError> {
        if self.faults.stall_tick.swap(false, Ordering::SeqCst) {
            std::thread::sleep(STALL);
            out.push(OutputRecord {
                topic: self.output.clone(),
                partition: Some(0),
                key: b"k".to_vec(),
                payload: Some(b"zombie".to_vec()),
                headers: Vec::new(),
            });
        }
        Ok(())
    }

    fn commit(&mut self) {
        self.committed.extend(self.staged.drain());
    }

    fn abort(&mut self) {
        self.staged.clear();
    }
}

struct Harness {
    settings: KafkaSettings,
    config: LoopConfig,
    input: String,
    output: String,
    state: String,
    dlq: String,
}

impl Harness {
    async fn new(isolation: &Isolation) -> Self {
        Self::on(
            TestEnv::get().kafka_settings(&isolation.topic_prefix()),
            isolation,
        )
        .await
    }

    /// A harness on the cluster `settings` point at (a private one, say).
    async fn on(settings: KafkaSettings, isolation: &Isolation) -> Self {
        let topics = settings.topics();
        let admin = settings.admin_client().expect("admin");
        ensure_topics(
            &admin,
            &topics.specs(&settings.layout()),
            &topics.co_partitioned_groups(),
            TIMEOUT,
        )
        .await
        .expect("topics");
        let input = topics.name(TopicKind::AccountCommands);
        let dlq = topics.dlq(TopicKind::AccountCommands);
        let config = LoopConfig {
            name: "numbering".into(),
            input_topics: vec![input.clone()],
            group_id: isolation.consumer_group("numbering"),
            transactional_id: format!("{}-numbering", isolation.run_id),
            transactional_producers: settings.transactional_producers,
            group_instance_id: None,
            max_batch: 50,
            max_batch_wait: Duration::from_millis(10),
            call_timeout: TIMEOUT,
            tick_interval: None,
        };
        Self {
            output: topics.name(TopicKind::AccountEvents),
            state: topics.name(TopicKind::AccountState),
            settings,
            config,
            input,
            dlq,
        }
    }

    fn start(
        &self,
    ) -> (
        CancellationToken,
        tokio::task::JoinHandle<Result<(), eventbank_runtime::kafka::transactional::LoopError>>,
    ) {
        self.start_with(self.config.clone(), &Readiness::new())
    }

    fn start_with(
        &self,
        config: LoopConfig,
        readiness: &Readiness,
    ) -> (
        CancellationToken,
        tokio::task::JoinHandle<Result<(), eventbank_runtime::kafka::transactional::LoopError>>,
    ) {
        let registry = MetricsRegistry::new("test", "0");
        self.start_stalling(
            self.settings.clone(),
            config,
            readiness,
            &registry,
            Faults::default(),
        )
    }

    fn start_stalling(
        &self,
        settings: KafkaSettings,
        config: LoopConfig,
        readiness: &Readiness,
        registry: &MetricsRegistry,
        faults: Faults,
    ) -> (
        CancellationToken,
        tokio::task::JoinHandle<Result<(), eventbank_runtime::kafka::transactional::LoopError>>,
    ) {
        let shutdown = CancellationToken::new();
        let processor = Numbering {
            output: self.output.clone(),
            state: self.state.clone(),
            committed: HashMap::new(),
            staged: HashMap::new(),
            faults,
        };
        let metrics = LoopMetrics::register(registry, "numbering");
        let handle = spawn_loop(
            settings,
            config,
            processor,
            metrics,
            readiness.register("loop"),
            shutdown.clone(),
        );
        (shutdown, handle)
    }

    async fn produce(&self, values: &[String]) {
        let producer = self.settings.producer().expect("producer");
        for value in values {
            producer
                .send(
                    FutureRecord::to(&self.input)
                        .partition(0)
                        .key("k")
                        .payload(value),
                    Timeout::After(TIMEOUT),
                )
                .await
                .map_err(|(err, _)| err)
                .expect("send");
        }
        producer.flush(TIMEOUT).expect("flush");
    }

    async fn read(&self, topic: &str) -> Vec<OwnedRecord> {
        let (settings, topic) = (self.settings.clone(), topic.to_owned());
        let mut all = Vec::new();
        for partition in 0..3 {
            let (settings, topic) = (settings.clone(), topic.clone());
            all.extend(
                tokio::task::spawn_blocking(move || {
                    read_partition(&settings, &topic, partition, TIMEOUT)
                })
                .await
                .expect("join")
                .expect("read"),
            );
        }
        all
    }
}

fn payloads(records: &[OwnedRecord]) -> Vec<String> {
    records
        .iter()
        .map(|r| String::from_utf8_lossy(r.payload.as_deref().unwrap_or_default()).into_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn outputs_once_dead_letters_poison_and_resumes_after_restart() {
    let isolation = Isolation::new("txloop");
    let harness = Harness::new(&isolation).await;

    let mut first: Vec<String> = (1..=20).map(|i| format!("a{i}")).collect();
    first.insert(7, "poison".into());
    harness.produce(&first).await;

    let (shutdown, handle) = harness.start();
    eventually("first 20 outputs", TIMEOUT, || async {
        (harness.read(&harness.output).await.len() >= 20).then_some(())
    })
    .await;
    shutdown.cancel();
    handle.await.expect("join").expect("loop stopped cleanly");

    // Produced while no loop runs: the restarted loop must pick up exactly here.
    let second: Vec<String> = (21..=30).map(|i| format!("a{i}")).collect();
    harness.produce(&second).await;
    let (shutdown, handle) = harness.start();
    eventually("all 30 outputs", TIMEOUT, || async {
        (harness.read(&harness.output).await.len() >= 30).then_some(())
    })
    .await;
    // A quiet moment: anything applied twice would show up now.
    tokio::time::sleep(Duration::from_secs(2)).await;
    shutdown.cancel();
    handle.await.expect("join").expect("loop stopped cleanly");

    let outputs = payloads(&harness.read(&harness.output).await);
    let expected: Vec<String> = (1..=30).map(|i| format!("{i}:a{i}")).collect();
    assert_eq!(
        outputs, expected,
        "every input once, in order, numbered without gaps"
    );

    let dead = harness.read(&harness.dlq).await;
    assert_eq!(payloads(&dead), ["poison"], "the original bytes are kept");
    assert_eq!(
        dead[0].header(HEADER_REASON),
        Some(b"payload is poison".as_slice())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_output_kafka_refuses_for_good_dead_letters_its_record_and_the_partition_moves_on() {
    let isolation = Isolation::new("txloop-huge");
    let harness = Harness::new(&isolation).await;
    harness
        .produce(&["a1".into(), "huge".into(), "a2".into()])
        .await;
    let (shutdown, handle) = harness.start();
    eventually("the records around the refused one", TIMEOUT, || async {
        (harness.read(&harness.output).await.len() >= 2).then_some(())
    })
    .await;
    shutdown.cancel();
    handle.await.expect("join").expect("loop stopped cleanly");

    assert_eq!(
        payloads(&harness.read(&harness.output).await),
        ["1:a1", "2:a2"]
    );
    let dead = harness.read(&harness.dlq).await;
    assert_eq!(payloads(&dead), ["huge"]);
    let reason =
        String::from_utf8_lossy(dead[0].header(HEADER_REASON).unwrap_or_default()).into_owned();
    assert!(
        reason.contains("refused"),
        "the reason names the refusal: {reason}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_static_member_fenced_by_another_instance_stops_its_loop_not_ready() {
    // Two instances claiming one static identity (a zombie pod and its
    // replacement): the older consumer is fenced out of the group, a fatal
    // consumer error. Its loop must stop and say so, not spin looking ready.
    let isolation = Isolation::new("txloop-fenced");
    let harness = Harness::new(&isolation).await;
    harness.produce(&["a1".into()]).await;
    let mut first = harness.config.clone();
    first.group_instance_id = Some(format!("{}-member", isolation.run_id));
    let readiness = Readiness::new();
    let (old_shutdown, old) = harness.start_with(first.clone(), &readiness);
    let _stop_old = old_shutdown.drop_guard();
    eventually("the first instance working", TIMEOUT, || async {
        (!harness.read(&harness.output).await.is_empty()).then_some(())
    })
    .await;

    let mut second = first;
    second.transactional_id = format!("{}-numbering-2", isolation.run_id);
    let (new_shutdown, new) = harness.start_with(second, &Readiness::new());
    let _stop_new = new_shutdown.clone().drop_guard();
    let stopped = tokio::time::timeout(Duration::from_secs(90), old)
        .await
        .expect("the fenced loop stops")
        .expect("join");
    let err = stopped.expect_err("a fenced member's loop fails");
    println!("fenced loop stopped with: {err}");
    assert!(
        !readiness.report().ready,
        "not ready after a fatal consumer error"
    );
    new_shutdown.cancel();
    new.await
        .expect("join")
        .expect("the live instance stops cleanly");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_zombie_cannot_commit_timed_work_after_losing_its_partitions() {
    // A tick's transaction consumes nothing, yet must be fenced like a
    // batch's: an instance that stalled past max.poll.interval has lost its
    // partitions to another member and must not commit what it computed.
    let isolation = Isolation::new("txloop-zombie");
    let harness = Harness::new(&isolation).await;
    let mut settings = harness.settings.clone();
    settings
        .client
        .insert("session.timeout.ms".into(), "6000".into());
    settings
        .client
        .insert("max.poll.interval.ms".into(), "7000".into());
    let mut config = harness.config.clone();
    config.tick_interval = Some(Duration::from_millis(200));
    harness.produce(&["a1".into(), "a2".into()]).await;

    let faults = Faults::default();
    let (zombie_stop, zombie) = harness.start_stalling(
        settings.clone(),
        config.clone(),
        &Readiness::new(),
        &MetricsRegistry::new("test", "0"),
        faults.clone(),
    );
    // A failed assertion must stop the loops too, or their blocking threads
    // keep the test's runtime (and the test) alive.
    let _stop_zombie = zombie_stop.clone().drop_guard();
    eventually("the first instance working", TIMEOUT, || async {
        (harness.read(&harness.output).await.len() >= 2).then_some(())
    })
    .await;
    faults.stall_tick.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let mut successor = config;
    successor.transactional_id = format!("{}-numbering-successor", isolation.run_id);
    let (successor_stop, successor) = harness.start_stalling(
        settings,
        successor,
        &Readiness::new(),
        &MetricsRegistry::new("test", "0"),
        Faults::default(),
    );
    let _stop_successor = successor_stop.clone().drop_guard();
    // Past the stall: the zombie has tried to commit its tick by now.
    tokio::time::sleep(STALL + Duration::from_secs(5)).await;
    harness.produce(&["a3".into()]).await;
    eventually("the group still working", TIMEOUT, || async {
        (harness.read(&harness.output).await.len() >= 3).then_some(())
    })
    .await;

    let outputs = payloads(&harness.read(&harness.output).await);
    assert!(
        !outputs.iter().any(|output| output == "zombie"),
        "the zombie's tick was committed: {outputs:?}"
    );
    zombie_stop.cancel();
    successor_stop.cancel();
    let _ = zombie.await;
    let _ = successor.await;
}

/// The value of the counter `name` in a registry's text.
fn counter(registry: &MetricsRegistry, name: &str) -> u64 {
    registry
        .encode()
        .lines()
        .filter(|line| line.starts_with(name))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|value| value as u64)
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broker_outage_restarts_the_loop_in_place_instead_of_stopping_it() {
    // The broker is gone when the loop starts (init_transactions times out)
    // and comes back later: before, the first error stopped the loop and
    // with it the service, which then waited for a person.
    let mut cluster = PrivateKafka::start(1).await;
    let isolation = Isolation::new("txloop-outage");
    let harness = Harness::on(
        cluster.kafka_settings(&isolation.topic_prefix()),
        &isolation,
    )
    .await;
    harness.produce(&["a1".into(), "a2".into()]).await;
    cluster.kill(0);

    let mut config = harness.config.clone();
    config.call_timeout = Duration::from_secs(3);
    let readiness = Readiness::new();
    let registry = MetricsRegistry::new("test", "0");
    let (shutdown, handle) = harness.start_stalling(
        harness.settings.clone(),
        config,
        &readiness,
        &registry,
        Faults::default(),
    );
    let _stop = shutdown.clone().drop_guard();
    eventually(
        "the loop failing and starting again",
        Duration::from_secs(90),
        || async { (counter(&registry, "eventbank_txn_loop_restarts_total") >= 2).then_some(()) },
    )
    .await;
    assert!(!handle.is_finished(), "a transient error stopped the loop");
    assert!(!readiness.report().ready, "not ready while it cannot start");

    cluster.restart(0);
    harness.produce(&["a3".into()]).await;
    eventually(
        "every record handled once the broker is back",
        Duration::from_secs(120),
        || async { (harness.read(&harness.output).await.len() >= 3).then_some(()) },
    )
    .await;
    assert!(readiness.report().ready, "ready again");
    shutdown.cancel();
    handle.await.expect("join").expect("loop stopped cleanly");
    assert_eq!(
        payloads(&harness.read(&harness.output).await),
        ["1:a1", "2:a2", "3:a3"],
        "each record once, numbered without gaps, after the restarts"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transaction_left_open_on_any_producer_of_the_ring_is_aborted_by_the_next_instance() {
    // The loop uses its transactional producers in turn; an instance that
    // dies with a transaction open on one that is not the first must not
    // leave it for the broker's transaction timeout (here 15 minutes) to
    // abort: until then no read-committed reader gets past its records, and
    // the successor's own restore, which reads to the high watermark, waits.
    let isolation = Isolation::new("txloop-ring");
    let mut harness = Harness::new(&isolation).await;
    harness.settings.transaction_timeout_ms = 900_000;
    let mut config = harness.config.clone();
    config.transactional_producers = 2;
    let mut settings = harness.settings.clone();
    settings
        .client
        .insert("session.timeout.ms".into(), "6000".into());
    settings
        .client
        .insert("max.poll.interval.ms".into(), "7000".into());
    harness
        .produce(&["a1".into(), "hold".into(), "a2".into()])
        .await;

    let faults = Faults::default();
    faults.hold.store(true, Ordering::SeqCst);
    let (frozen_stop, frozen) = harness.start_stalling(
        settings.clone(),
        config.clone(),
        &Readiness::new(),
        &MetricsRegistry::new("test", "0"),
        faults.clone(),
    );
    let _stop_frozen = frozen_stop.clone().drop_guard();
    let release = faults.released.clone();
    // However the test ends, the frozen thread must be let go, or the
    // runtime waits for it.
    let _release = scopeguard(move || release.store(true, Ordering::SeqCst));
    // The first transaction runs on the ring's second producer; give a1's
    // outputs time to reach the broker inside it.
    tokio::time::sleep(Duration::from_secs(5)).await;

    // The same instance again (same transactional ids), as after a crash.
    let (successor_stop, successor) = harness.start_stalling(
        settings,
        config,
        &Readiness::new(),
        &MetricsRegistry::new("test", "0"),
        Faults::default(),
    );
    let _stop_successor = successor_stop.clone().drop_guard();
    eventually(
        "every record handled by the successor",
        Duration::from_secs(90),
        || async { (harness.read(&harness.output).await.len() >= 3).then_some(()) },
    )
    .await;
    assert_eq!(
        payloads(&harness.read(&harness.output).await),
        ["1:a1", "2:hold", "3:a2"],
        "the frozen instance's open transaction aborted, each record once"
    );
    frozen_stop.cancel();
    faults.released.store(true, Ordering::SeqCst);
    let _ = frozen.await;
    successor_stop.cancel();
    let _ = successor.await;
}

/// Runs `f` when dropped.
fn scopeguard(f: impl FnOnce()) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}

#[tokio::test(flavor = "multi_thread")]
async fn not_ready_until_its_partitions_are_restored() {
    // A ready instance gets traffic and lets a rolling update move on: it
    // must not say so while it is still restoring what it was assigned.
    let isolation = Isolation::new("txloop-ready");
    let harness = Harness::new(&isolation).await;
    harness.produce(&["a1".into()]).await;
    let faults = Faults::default();
    faults.hold_restore.store(true, Ordering::SeqCst);
    let readiness = Readiness::new();
    let (shutdown, handle) = harness.start_stalling(
        harness.settings.clone(),
        harness.config.clone(),
        &readiness,
        &MetricsRegistry::new("test", "0"),
        faults.clone(),
    );
    let _stop = shutdown.clone().drop_guard();
    let release = faults.released.clone();
    let _release = scopeguard(move || release.store(true, Ordering::SeqCst));
    assert!(
        !readiness.report().ready,
        "ready before it joined its group"
    );
    eventually("the restore under way", TIMEOUT, || async {
        faults.restoring.load(Ordering::SeqCst).then_some(())
    })
    .await;
    assert!(!readiness.report().ready, "ready while restoring");

    faults.released.store(true, Ordering::SeqCst);
    eventually("ready once restored", TIMEOUT, || async {
        readiness.report().ready.then_some(())
    })
    .await;
    eventually("the record handled", TIMEOUT, || async {
        (!harness.read(&harness.output).await.is_empty()).then_some(())
    })
    .await;
    shutdown.cancel();
    handle.await.expect("join").expect("loop stopped cleanly");
}
