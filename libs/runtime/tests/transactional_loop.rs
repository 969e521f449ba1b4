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
    /// Set: the next tick stalls (a long GC pause, a frozen node) past the
    /// group's max.poll.interval, then emits `zombie`.
    stall: Arc<AtomicBool>,
}

impl Processor for Numbering {
    fn assigned(
        &mut self,
        settings: &KafkaSettings,
        partitions: &[TopicPartition],
    ) -> Result<(), ProcessorError> {
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
        if payload == b"poison" {
            return Err(HandleError::DeadLetter("payload is poison".into()));
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
        if self.stall.swap(false, Ordering::SeqCst) {
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
            group_instance_id: None,
            dead_letter_topics: HashMap::from([(input.clone(), dlq.clone())]),
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
            Arc::default(),
        )
    }

    fn start_stalling(
        &self,
        settings: KafkaSettings,
        config: LoopConfig,
        readiness: &Readiness,
        registry: &MetricsRegistry,
        stall: Arc<AtomicBool>,
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
            stall,
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

    let stall = Arc::new(AtomicBool::new(false));
    let (zombie_stop, zombie) = harness.start_stalling(
        settings.clone(),
        config.clone(),
        &Readiness::new(),
        &MetricsRegistry::new("test", "0"),
        Arc::clone(&stall),
    );
    // A failed assertion must stop the loops too, or their blocking threads
    // keep the test's runtime (and the test) alive.
    let _stop_zombie = zombie_stop.clone().drop_guard();
    eventually("the first instance working", TIMEOUT, || async {
        (harness.read(&harness.output).await.len() >= 2).then_some(())
    })
    .await;
    stall.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let mut successor = config;
    successor.transactional_id = format!("{}-numbering-successor", isolation.run_id);
    let (successor_stop, successor) = harness.start_stalling(
        settings,
        successor,
        &Readiness::new(),
        &MetricsRegistry::new("test", "0"),
        Arc::default(),
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
        Arc::default(),
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
