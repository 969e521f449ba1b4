//! Exactly-once under failure: the processor is killed with SIGKILL mid-stream,
//! or instances leave and join under load, while clients keep sending. Every
//! acknowledged command must end with exactly one effect in the log, sequences
//! stay gapless, and the restored state equals the sum of the events.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{ProcessorProcess, Running, settings};
use eventbank_events::dead_letter::{HEADER_REASON, HEADER_SOURCE_TOPIC};
use eventbank_events::{AccountId, CommandId, TopicKind};
use eventbank_testkit::bank::{BankClient, Reply};
use eventbank_testkit::log::{account_events, assert_streams_consistent, read_topic};
use eventbank_testkit::{Isolation, TestEnv, eventually};
use futures::StreamExt;
use rdkafka::producer::FutureRecord;
use reqwest::StatusCode;
use serde_json::json;

const COMMANDS: usize = 240;

/// Sends `COMMANDS` deposits and withdrawals over `accounts`, eight at a
/// time, each with its own idempotency key, counting settled ones in `done`.
async fn workload(
    client: BankClient,
    accounts: Vec<String>,
    done: Arc<AtomicUsize>,
) -> Vec<(String, Reply)> {
    futures::stream::iter(0..COMMANDS)
        .map(|i| {
            let client = client.clone();
            let account = accounts[i % accounts.len()].clone();
            let done = Arc::clone(&done);
            async move {
                let (kind, amount) = if i % 4 == 3 {
                    ("withdrawals", 700)
                } else {
                    ("deposits", 300)
                };
                let reply = client
                    .settle(
                        &format!("/accounts/{account}/{kind}"),
                        Some(json!({"amount": amount})),
                        &format!("op-{i}"),
                    )
                    .await;
                done.fetch_add(1, Ordering::SeqCst);
                (account, reply)
            }
        })
        .buffer_unordered(8)
        .collect()
        .await
}

async fn wait_for(done: &AtomicUsize, count: usize) {
    eventually("workload progress", Duration::from_secs(300), || async {
        (done.load(Ordering::SeqCst) >= count).then_some(())
    })
    .await;
}

/// Checks the log against what the clients were told.
async fn verify(isolation: &Isolation, client: &BankClient, replies: &[(String, Reply)]) {
    let kafka = TestEnv::get().kafka_settings(&isolation.topic_prefix());
    let streams = account_events(&kafka).await;
    assert_streams_consistent(&streams);

    let mut effects: HashMap<CommandId, usize> = HashMap::new();
    for event in streams.values().flatten() {
        *effects.entry(event.command_id).or_default() += 1;
    }
    let mut accepted_per_account: BTreeMap<String, usize> = BTreeMap::new();
    for (account, reply) in replies {
        let command_id = reply
            .command_id
            .as_deref()
            .and_then(|id| CommandId::parse(id).ok())
            .unwrap_or_else(|| panic!("a final reply names its command: {reply:?}"));
        match reply.status {
            StatusCode::OK => {
                assert_eq!(
                    effects.get(&command_id),
                    Some(&1),
                    "accepted command {command_id} has exactly one event"
                );
                *accepted_per_account.entry(account.clone()).or_default() += 1;
            }
            StatusCode::UNPROCESSABLE_ENTITY => {
                assert_eq!(reply.code(), "insufficient_funds", "{reply:?}");
                assert_eq!(
                    effects.get(&command_id),
                    None,
                    "rejected command {command_id} has no event"
                );
            }
            other => panic!("unexpected final status {other}: {reply:?}"),
        }
    }
    for (account, accepted) in &accepted_per_account {
        let stream = &streams[&AccountId::parse(account).expect("id")];
        assert_eq!(
            stream.len(),
            accepted + 1,
            "{account}: open + one event per accepted command"
        );
    }

    // The state the processor restored after the crashes is the log's state:
    // one more deposit lands on exactly the sum of the events.
    for (id, stream) in &streams {
        let last = stream
            .iter()
            .rev()
            .find_map(|e| e.event.balance_after())
            .map_or(0, |b| b.minor_units());
        let reply = client
            .settle(
                &format!("/accounts/{id}/deposits"),
                Some(json!({"amount": 1})),
                &format!("final-{id}"),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        assert_eq!(
            reply.body["balance"].as_i64(),
            Some(last + 1),
            "restored balance of {id}"
        );
        assert_eq!(
            reply.body["version"].as_u64(),
            Some(stream.len() as u64 + 1),
            "restored version of {id}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn killing_the_processor_twice_mid_stream_loses_and_doubles_nothing() {
    let isolation = Isolation::new("crash");
    let api = Running::start(settings(&isolation, true, false, "api")).await;
    let client = BankClient::new(api.base_url());
    let mut processor = ProcessorProcess::spawn(&isolation, "p0");
    let mut accounts = Vec::new();
    for holder in ["Ann", "Bo", "Cy"] {
        accounts.push(client.open(holder, "EUR").await);
    }

    let done = Arc::new(AtomicUsize::new(0));
    let work = tokio::spawn(workload(client.clone(), accounts, Arc::clone(&done)));
    for fraction in [3, 2] {
        wait_for(&done, COMMANDS / fraction).await;
        processor.kill();
        tokio::time::sleep(Duration::from_millis(500)).await;
        // Same instance name, so the same transactional id: the new process
        // fences the dead one's open transaction instead of waiting it out.
        processor = ProcessorProcess::spawn(&isolation, "p0");
    }
    let replies = work.await.expect("workload");
    verify(&isolation, &client, &replies).await;
    processor.terminate();
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn instances_leaving_and_joining_under_load_apply_every_command_once() {
    let isolation = Isolation::new("rebalance");
    let api = Running::start(settings(&isolation, true, false, "api")).await;
    let client = BankClient::new(api.base_url());
    // Dynamic membership: a leaving instance hands its partitions over at
    // once, so partitions really move between the two under load.
    let dynamic = [("EVENTBANK_PROCESSOR__STATIC_MEMBERSHIP", "false")];
    let p0 = ProcessorProcess::spawn_with(&isolation, "p0", &dynamic);
    let mut p1 = Some(ProcessorProcess::spawn_with(&isolation, "p1", &dynamic));
    let mut accounts = Vec::new();
    for holder in ["Ann", "Bo", "Cy", "Di"] {
        accounts.push(client.open(holder, "EUR").await);
    }

    let done = Arc::new(AtomicUsize::new(0));
    let work = tokio::spawn(workload(client.clone(), accounts, Arc::clone(&done)));
    wait_for(&done, COMMANDS / 3).await;
    p1.take().expect("p1 running").terminate();
    wait_for(&done, COMMANDS / 2).await;
    let p1 = ProcessorProcess::spawn_with(&isolation, "p1", &dynamic);
    let replies = work.await.expect("workload");
    verify(&isolation, &client, &replies).await;
    p1.terminate();
    p0.terminate();
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn poison_records_go_to_the_dead_letter_topic_and_the_partition_moves_on() {
    let isolation = Isolation::new("poison");
    let running = Running::start(settings(&isolation, true, true, "p0")).await;
    let client = BankClient::new(running.base_url());
    let account = client.open("Ann", "EUR").await;

    let kafka = TestEnv::get().kafka_settings(&isolation.topic_prefix());
    let commands = kafka.topics().name(TopicKind::AccountCommands);
    let producer = kafka.producer().expect("producer");
    let valid_elsewhere = json!({
        "schema_version": 1,
        "command_id": uuid::Uuid::new_v4(),
        "account_id": uuid::Uuid::new_v4(),
        "correlation_id": uuid::Uuid::new_v4(),
        "causation_id": null,
        "issued_at": "2026-11-23T10:00:00Z",
        "command": {"type": "deposit", "amount": 5}
    })
    .to_string();
    for payload in ["{not json", valid_elsewhere.as_str()] {
        producer
            .send(
                FutureRecord::to(&commands)
                    .key(account.as_str())
                    .payload(payload),
                Duration::from_secs(30),
            )
            .await
            .map_err(|(err, _)| err)
            .expect("produce poison");
    }

    // The account's partition keeps going after the poison.
    let after = client
        .post(
            &format!("/accounts/{account}/deposits"),
            json!({"amount": 70}),
        )
        .await;
    assert_eq!(after.status, StatusCode::OK, "{after:?}");
    assert_eq!(after.body["balance"], 70);

    let dead = read_topic(&kafka, TopicKind::AccountCommands, true).await;
    assert_eq!(
        dead.len(),
        2,
        "both poison records are dead-lettered: {dead:?}"
    );
    let reasons: Vec<String> = dead
        .iter()
        .map(|r| String::from_utf8_lossy(r.header(HEADER_REASON).unwrap_or_default()).into_owned())
        .collect();
    assert_eq!(
        dead[0].payload.as_deref(),
        Some(b"{not json".as_slice()),
        "original bytes kept"
    );
    assert!(
        reasons.iter().any(|r| r.contains("does not match")),
        "{reasons:?}"
    );
    assert!(reasons.iter().all(|r| !r.is_empty()), "{reasons:?}");
    assert!(
        dead.iter()
            .all(|r| r.header(HEADER_SOURCE_TOPIC) == Some(commands.as_bytes()))
    );

    let streams = account_events(&kafka).await;
    assert_eq!(streams.len(), 1, "the poison opened or changed nothing");
    running.stop().await;
}
