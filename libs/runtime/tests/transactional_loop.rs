//! The transactional loop against the real broker: each input record's outputs
//! appear exactly once, poison records go to the dead-letter topic with their
//! reason while the partition moves on, and a restarted loop resumes from its
//! committed offsets with its restored state.

use std::collections::HashMap;
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
use eventbank_testkit::{Isolation, TestEnv, eventually};
use rdkafka::producer::{FutureRecord, Producer};
use rdkafka::util::Timeout;
use tokio_util::sync::CancellationToken;

const TIMEOUT: Duration = Duration::from_secs(30);

/// Numbers each record per partition, keeping the count in the state topic: a
/// replay that was applied twice would show as a skipped or repeated number.
struct Numbering {
    output: String,
    state: String,
    committed: HashMap<i32, u64>,
    staged: HashMap<i32, u64>,
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
        let settings = TestEnv::get().kafka_settings(&isolation.topic_prefix());
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
        let shutdown = CancellationToken::new();
        let processor = Numbering {
            output: self.output.clone(),
            state: self.state.clone(),
            committed: HashMap::new(),
            staged: HashMap::new(),
        };
        let metrics = LoopMetrics::register(&MetricsRegistry::new("test", "0"), "numbering");
        let handle = spawn_loop(
            self.settings.clone(),
            self.config.clone(),
            processor,
            metrics,
            Readiness::new().register("loop"),
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
