//! Issue 6: the trail is append-only in the database, and tampering that
//! bypasses that (a superuser disabling triggers) is found by verify, at the
//! exact stream and position, and by reconcile, at the altered amount; the
//! scheduled verification finds it unasked and tells the metrics page (what
//! the `EventbankAuditChainBroken` alert watches).

use crate::common;

use common::{Running, assert_trail_intact, get_json, pg, settings, wait_for_records};
use eventbank_events::testing::{Step, account_history, rejection};
use eventbank_events::{AccountId, TopicKind, wire};
use std::time::Duration;

use eventbank_testkit::metrics::{scrape, sum};
use eventbank_testkit::{Isolation, RecordWriter, eventually};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_pinpoints_an_altered_row_and_reconcile_an_altered_amount() {
    let isolation = Isolation::new("audit-tamper");
    let mut settings = settings(&isolation, "tamper");
    settings.audit.verify_interval_secs = 1;
    settings.audit.chain_extent_interval_ms = 100;
    let running = Running::start_ready(settings).await;
    let feed = RecordWriter::isolated(&isolation);
    let (ann, bob) = (AccountId::new(), AccountId::new());
    let steps = [Step::Deposit(1000), Step::Withdraw(300), Step::Deposit(50)];
    for event in account_history(ann, &steps)
        .iter()
        .chain(&account_history(bob, &steps))
    {
        feed.send(TopicKind::AccountEvents, event).await;
    }
    feed.send(TopicKind::CommandResults, &rejection(bob)).await;
    let db = pg(&isolation).await;
    wait_for_records(&db, 9).await;

    let base = &running.base_url();
    let (_, reconciled) = assert_trail_intact(base, 2, 9, 2).await;
    assert_eq!(reconciled["events_checked"], 8);
    let intact = metrics_until(
        base,
        "two chains of nine records, verified intact",
        |page| {
            sum(page, "eventbank_audit_chains ") == 2.0
                && sum(page, "eventbank_audit_chain_length ") == 9.0
                && sum(page, "eventbank_audit_last_verified_timestamp_seconds ") > 0.0
        },
    )
    .await;
    assert_eq!(
        sum(&intact, "eventbank_audit_chain_broken "),
        0.0,
        "{intact}"
    );

    // The database refuses to change the trail, whoever asks.
    for statement in [
        "UPDATE audit_records SET record_type = 'x'",
        "DELETE FROM audit_records",
        "TRUNCATE audit_records",
    ] {
        let err = db.batch_execute(statement).await.expect_err(statement);
        assert!(
            err.to_string().contains("append-only") || format!("{err:?}").contains("append-only"),
            "{statement}: {err:?}"
        );
    }
    assert_eq!(common::count(&db).await, 9);

    // A superuser bypasses the trigger and makes Ann's first deposit bigger.
    db.batch_execute(&format!(
        "SET session_replication_role = replica;
         UPDATE audit_records
            SET payload = jsonb_set(payload, '{{event,amount}}', '1500')
          WHERE stream_id = '{ann}' AND position = 2;
         SET session_replication_role = DEFAULT;"
    ))
    .await
    .expect("tamper as superuser");
    // Nobody asks: the scheduled verification finds it.
    let broken = metrics_until(base, "the scheduled verification found the break", |page| {
        sum(page, "eventbank_audit_chain_broken ") == 1.0
    })
    .await;
    assert!(
        sum(
            &broken,
            "eventbank_audit_verify_runs_total{scope=\"all\",result=\"broken\"}"
        ) >= 1.0,
        "{broken}"
    );

    let (_, report) = get_json(&format!("{base}/audit/verify")).await;
    assert_eq!(report["ok"], false, "{report}");
    let broken = &report["broken"];
    assert_eq!(broken["stream_id"], ann.to_string(), "{report}");
    assert_eq!(broken["position"], 2);
    assert_eq!(broken["problem"], "hash_mismatch");
    assert_ne!(broken["expected_hash"], broken["stored_hash"]);
    let (_, one) = get_json(&format!("{base}/audit/verify?stream={bob}")).await;
    assert_eq!(one["ok"], true, "Bob's chain is untouched: {one}");
    assert_eq!(one["streams_checked"], 1);
    let (_, one) = get_json(&format!("{base}/audit/verify?stream={ann}")).await;
    assert_eq!(one["broken"]["position"], 2, "{one}");

    let (_, reconciled) = get_json(&format!("{base}/audit/reconcile")).await;
    assert_eq!(reconciled["ok"], false, "{reconciled}");
    let first = &reconciled["mismatches"][0];
    assert_eq!(first["stream_id"], ann.to_string());
    assert_eq!(first["sequence"], 2);
    assert_eq!(first["kind"], "balance");
    assert_eq!(first["expected"], 1500);
    assert_eq!(first["recorded"], 1000);
    let streams: Vec<&Value> = reconciled["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["stream_id"])
        .collect();
    assert!(
        streams
            .iter()
            .all(|s| **s == Value::String(ann.to_string())),
        "{reconciled}"
    );

    // A deleted tail shows too: the chain no longer ends at its head.
    db.batch_execute(&format!(
        "SET session_replication_role = replica;
         DELETE FROM audit_records WHERE stream_id = '{bob}' AND position = 5;
         SET session_replication_role = DEFAULT;"
    ))
    .await
    .expect("delete as superuser");
    let (_, report) = get_json(&format!("{base}/audit/verify?stream={bob}")).await;
    assert_eq!(report["broken"]["problem"], "head_mismatch", "{report}");
    assert_eq!(report["broken"]["position"], 5);

    running.stop().await;
    common::drop_schema(&isolation).await;
}

/// The metrics page once `settled` holds for it.
async fn metrics_until(base: &str, what: &str, settled: impl Fn(&str) -> bool) -> String {
    eventually(what, Duration::from_secs(30), || async {
        scrape(base).await.filter(|page| settled(page))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_records_are_dead_lettered_without_stalling_the_partition() {
    let isolation = Isolation::new("audit-dlq");
    let running = Running::start_ready(settings(&isolation, "dlq")).await;
    let feed = RecordWriter::isolated(&isolation);
    let account = AccountId::new();
    let history = account_history(account, &[Step::Deposit(10)]);
    feed.send(TopicKind::AccountEvents, &history[0]).await;
    // Same key, so same partition: the good record after them must still come.
    let poison = eventbank_testkit::poison::variants(&wire::encode(&history[1]), "event", "type");
    for (_, value) in &poison {
        feed.raw(TopicKind::AccountEvents, &wire::encode_key(account), value)
            .await;
    }
    feed.send(TopicKind::AccountEvents, &history[1]).await;
    let db = pg(&isolation).await;
    wait_for_records(&db, 2).await;

    let kafka = eventbank_testkit::TestEnv::get().kafka_settings(&isolation.topic_prefix());
    let dlq = kafka.topics().dlq(TopicKind::AccountEvents);
    let expected = poison.len();
    let letters = eventbank_testkit::eventually("every dead letter", common::LONG, || {
        let (kafka, dlq) = (kafka.clone(), dlq.clone());
        async move {
            let mut found = Vec::new();
            for partition in 0..kafka.topics.partitions {
                let (kafka, dlq) = (kafka.clone(), dlq.clone());
                found.extend(
                    tokio::task::spawn_blocking(move || {
                        eventbank_runtime::kafka::read_partition(
                            &kafka,
                            &dlq,
                            partition,
                            std::time::Duration::from_secs(30),
                        )
                    })
                    .await
                    .ok()?
                    .ok()?,
                );
            }
            (found.len() >= expected).then_some(found)
        }
    })
    .await;
    eventbank_testkit::poison::assert_kept_as_written(&poison, &letters);
    for ((kind, _), letter) in poison.iter().zip(&letters) {
        let reason = letter.dead_letter().expect("dead-letter headers").reason;
        assert!(!reason.is_empty(), "{kind}: a reason");
    }
    let letter = letters[0].dead_letter().expect("dead-letter headers");
    assert!(letter.reason.contains("invalid JSON"), "{}", letter.reason);
    assert!(
        letter.consumer.starts_with("audit-log/"),
        "{}",
        letter.consumer
    );

    let metrics = eventbank_testkit::metrics::scrape(&running.base_url())
        .await
        .expect("GET /metrics");
    let counted = eventbank_testkit::metrics::sum(&metrics, "eventbank_audit_dead_letters_total{");
    assert_eq!(counted as usize, poison.len(), "each counted: {metrics}");
    running.stop().await;
    common::drop_schema(&isolation).await;
}
