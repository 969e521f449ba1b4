//! Rejections the broker deleted by retention while the audit log was down:
//! the trail cannot hold them, so it must report the gap they leave.

use std::collections::BTreeMap;

use crate::common::{LONG, Running, get_json, pg, settings, wait_for_records};
use eventbank_events::testing::rejection;
use eventbank_events::{AccountId, TopicKind};
use eventbank_runtime::kafka::KafkaSettings;
use eventbank_testkit::log::read_topic;
use eventbank_testkit::{Isolation, RecordWriter, TestEnv, eventually};
use rdkafka::TopicPartitionList;
use rdkafka::admin::AdminOptions;
use serde_json::{Value, json};

/// Per partition of `kind`: the offset after its last record.
async fn ends(kafka: &KafkaSettings, kind: TopicKind) -> BTreeMap<i32, i64> {
    let mut ends: BTreeMap<i32, i64> = (0..kafka.topics.partitions).map(|p| (p, 0)).collect();
    for record in read_topic(kafka, kind, false).await {
        let end = ends.entry(record.partition).or_default();
        *end = (*end).max(record.offset + 1);
    }
    ends
}

#[tokio::test(flavor = "multi_thread")]
async fn rejections_deleted_by_retention_while_the_audit_log_was_down_are_reported_as_a_gap() {
    // A rejection exists only on command-results (kept for hours). If the
    // audit log is down for longer, the broker deletes rejections it never
    // read; the trail cannot hold them, but it must not pretend to be whole.
    let isolation = Isolation::new("audit-retention-gap");
    let kafka = TestEnv::get().kafka_settings(&isolation.topic_prefix());
    let db = pg(&isolation).await;
    let feed = RecordWriter::isolated(&isolation);
    let account = AccountId::new();

    let running = Running::start_ready(settings(&isolation, "gap")).await;
    for _ in 0..3 {
        feed.send(TopicKind::CommandResults, &rejection(account))
            .await;
    }
    wait_for_records(&db, 3).await;
    running.stop().await;

    // Down: six rejections arrive, and retention deletes everything unread.
    for _ in 0..6 {
        feed.send(TopicKind::CommandResults, &rejection(account))
            .await;
    }
    let topic = kafka.topics().name(TopicKind::CommandResults);
    let stored: BTreeMap<i32, i64> = db
        .query(
            "SELECT partition, next_offset FROM consumer_offsets WHERE topic = $1",
            &[&topic],
        )
        .await
        .expect("stored offsets")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let deleted_to = ends(&kafka, TopicKind::CommandResults).await;
    let mut expected = Vec::new();
    let mut delete = TopicPartitionList::new();
    for (&partition, &end) in &deleted_to {
        delete
            .add_partition_offset(&topic, partition, rdkafka::Offset::Offset(end))
            .expect("offset");
        let from = stored.get(&partition).copied().unwrap_or(0);
        if end > from {
            expected.push(json!({"topic": topic, "partition": partition,
                                 "from_offset": from, "to_offset": end}));
        }
    }
    assert!(
        !expected.is_empty(),
        "rejections were written while it was down"
    );
    let admin = kafka.admin_client().expect("admin");
    admin
        .delete_records(&delete, &AdminOptions::new())
        .await
        .expect("delete records");

    // Back up, with two more rejections after the deletion.
    for _ in 0..2 {
        feed.send(TopicKind::CommandResults, &rejection(account))
            .await;
    }
    let running = Running::start_ready(settings(&isolation, "gap")).await;
    wait_for_records(&db, 5).await;
    // Partitions where nothing new arrived learn of their gap from the lag
    // probe, which runs on its own interval.
    let expected = Value::Array(expected);
    let seen = std::sync::Mutex::new(Value::Null);
    let report = eventually("every gap recorded", LONG, || async {
        let (status, report) = get_json(&format!("{}/audit/verify", running.base_url())).await;
        assert_eq!(status, 200, "{report}");
        let mut last = seen.lock().unwrap();
        if *last != report["retention_gaps"] {
            // Shown if it never matches: what was recorded, and when.
            eprintln!(
                "retention_gaps now {} (expected {expected})",
                report["retention_gaps"]
            );
            *last = report["retention_gaps"].clone();
        }
        (report["retention_gaps"] == expected).then_some(report)
    })
    .await;
    assert_eq!(report["ok"], true, "the chains are intact: {report}");
    assert_eq!(
        report["complete"], false,
        "but the trail says it is not whole: {report}"
    );
    let metrics = reqwest::get(format!("{}/metrics", running.base_url()))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let lost: u64 = metrics
        .lines()
        .filter(|line| line.starts_with("eventbank_audit_retention_lost_offsets_total"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert_eq!(lost, 6, "the six deleted rejections are counted\n{metrics}");
    running.stop().await;
}

/// The interleaving behind an earlier flake of the test above, made certain:
/// while the audit log was down, ONE rejection was deleted by retention and
/// another arrived after it. The first record read is then exactly one past
/// the stored offset, the jump a transaction marker makes; and with the lag
/// probe held off, only the first batch after the assignment can tell.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_rejection_deleted_while_down_and_one_after_it_is_a_gap_too() {
    let isolation = Isolation::new("audit-one-gap");
    let kafka = TestEnv::get().kafka_settings(&isolation.topic_prefix());
    let db = pg(&isolation).await;
    let feed = RecordWriter::isolated(&isolation);
    let account = AccountId::new();
    let topic = kafka.topics().name(TopicKind::CommandResults);

    let running = Running::start_ready(settings(&isolation, "one-gap")).await;
    let first = feed
        .send_to(TopicKind::CommandResults, 0, &rejection(account))
        .await;
    wait_for_records(&db, 1).await;
    running.stop().await;

    let lost = feed
        .send_to(TopicKind::CommandResults, 0, &rejection(account))
        .await;
    assert_eq!(
        lost,
        first + 1,
        "no marker between them (not transactional)"
    );
    let mut delete = TopicPartitionList::new();
    delete
        .add_partition_offset(&topic, 0, rdkafka::Offset::Offset(lost + 1))
        .expect("offset");
    kafka
        .admin_client()
        .expect("admin")
        .delete_records(&delete, &AdminOptions::new())
        .await
        .expect("delete records");
    feed.send_to(TopicKind::CommandResults, 0, &rejection(account))
        .await;

    let mut restarted = settings(&isolation, "one-gap");
    restarted.audit.lag_interval_ms = 3_600_000;
    let running = Running::start_ready(restarted).await;
    wait_for_records(&db, 2).await;
    let (status, report) = get_json(&format!("{}/audit/verify", running.base_url())).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report["retention_gaps"],
        json!([{"topic": topic, "partition": 0, "from_offset": lost, "to_offset": lost + 1}]),
        "{report}"
    );
    assert_eq!(report["complete"], false, "{report}");
    running.stop().await;
}
