//! Finished transfers are forgotten after `saga.finished_retention_secs`, on
//! the real broker: their `transfer-state` keys get tombstones, a restart
//! restores none of them, and a late replay of a forgotten transfer's debit
//! is dead-lettered instead of starting (and paying) it again.

use crate::common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{Bank, LONG, labelled_metric, metric};
use eventbank_events::{AccountEventEnvelope, AccountId, TopicKind, TransferId, wire};
use eventbank_runtime::kafka::KafkaSettings;
use eventbank_testkit::log::read_topic;
use eventbank_testkit::log::{assert_transfers_settled_once, transfer_events};
use eventbank_testkit::{InProcess, eventually};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::FutureRecord;
use transfer_saga::inbox::{InboxKind, KIND_HEADER};

const DEADLINE_MS: u64 = 60_000;
/// Short, but longer than a debit takes to reach the saga on a busy
/// machine: a debit older than this is refused rather than started.
const RETENTION_SECS: u64 = 2;

/// The keys of `transfer-state` that carry a tombstone.
async fn tombstoned(kafka: &KafkaSettings) -> BTreeSet<TransferId> {
    read_topic(kafka, TopicKind::TransferState, false)
        .await
        .into_iter()
        .filter(|record| record.payload.is_none())
        .map(|record| {
            let key = String::from_utf8(record.key.expect("keyed")).expect("text key");
            TransferId::parse(&key).expect("a transfer id")
        })
        .collect()
}

/// Waits until both loops of the saga at `addr` own (and have restored)
/// every partition: a debit older than the retention is refused, so with a
/// retention this short the test must not debit while the saga starts up.
async fn await_assigned(bank: &Bank, addr: std::net::SocketAddr) -> Duration {
    let partitions = f64::from(bank.kafka.topics.partitions);
    let started = Instant::now();
    for name in ["\"saga\"", "\"saga-router\""] {
        eventually("the saga's loops own their partitions", LONG, || async {
            labelled_metric(addr, "eventbank_txn_assigned_partitions", name)
                .await
                .filter(|assigned| *assigned >= partitions)
        })
        .await;
    }
    started.elapsed()
}

fn short_retention(bank: &Bank) -> transfer_saga::Settings {
    let mut settings = bank.saga_settings(DEADLINE_MS);
    settings.saga.finished_retention_secs = RETENTION_SECS;
    settings
}

async fn write_debit_to_inbox(kafka: &KafkaSettings, id: TransferId, debit: &AccountEventEnvelope) {
    let producer = kafka.producer().expect("producer");
    let topic = kafka.topics().name(TopicKind::TransferSagaInbox);
    let (key, payload) = (wire::encode_key(id), wire::encode(debit));
    producer
        .send(
            FutureRecord::to(&topic)
                .key(key.as_slice())
                .payload(payload.as_slice())
                .headers(OwnedHeaders::new().insert(Header {
                    key: KIND_HEADER,
                    value: Some(InboxKind::AccountEvent.as_str()),
                })),
            Duration::from_secs(30),
        )
        .await
        .expect("written to the inbox");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_transfers_are_tombstoned_after_the_retention_and_never_restored() {
    let bank = Bank::start("saga-retention", true).await;
    let ann = bank.account("Ann", "EUR", 10_000).await;
    let bob = bank.account("Bob", "EUR", 0).await;
    let ann_s = ann.to_string();

    // Transfers that finish under the default retention (one refunded)...
    let saga = bank.start_saga(DEADLINE_MS).await;
    let mut earlier = bank.transfers(3, ann, bob, 10).await;
    earlier.insert(
        bank.transfer(&ann_s, &AccountId::new().to_string(), 20)
            .await
            .expect("debited"),
    );
    bank.await_ended(&earlier).await;
    saga.stop().await;
    // ...are past the short one by the time a saga with it restores them.
    tokio::time::sleep(Duration::from_secs(RETENTION_SECS) + Duration::from_millis(500)).await;
    let (app, addr) = bank.build_saga(short_retention(&bank)).await;
    let saga = InProcess::run(app);
    let took = await_assigned(&bank, addr).await;
    eprintln!("saga with the short retention assigned and restored in {took:?}");
    // And transfers run under the short retention, expiring in memory.
    let later = bank.transfers(2, ann, bob, 10).await;
    bank.await_ended(&later).await;

    let all: BTreeSet<TransferId> = earlier.union(&later).copied().collect();
    let waited = Instant::now();
    eventually("every finished transfer tombstoned", LONG, || async {
        tombstoned(&bank.kafka)
            .await
            .is_superset(&all)
            .then_some(())
    })
    .await;
    eprintln!(
        "{} transfers tombstoned {:?} after the last one ended",
        all.len(),
        waited.elapsed()
    );
    // The gauge follows on the next tick.
    eventually(
        "nothing finished remembered past the retention",
        LONG,
        || async {
            (metric(addr, "eventbank_saga_finished_transfers").await == Some(0.0)).then_some(())
        },
    )
    .await;

    // A late replay of a forgotten transfer's debit starts nothing.
    let forgotten = *earlier.first().expect("a transfer");
    let debit = bank.debit(ann, forgotten).await;
    write_debit_to_inbox(&bank.kafka, forgotten, &debit).await;
    let reason = eventually("the replayed debit dead-lettered", LONG, || async {
        read_topic(&bank.kafka, TopicKind::TransferSagaInbox, true)
            .await
            .first()
            .map(|record| record.dead_letter().expect("dead-letter headers").reason)
    })
    .await;
    assert!(
        reason.contains(&forgotten.to_string())
            && reason.contains("older than saga.finished_retention_secs"),
        "{reason}"
    );
    saga.stop().await;

    // A restart restores none of them: restore applies their tombstones
    // (and would not load a finished saga past the retention either).
    let (app, addr) = bank.build_saga(short_retention(&bank)).await;
    let _saga = InProcess::run(app);
    let took = await_assigned(&bank, addr).await;
    eprintln!("restarted saga assigned and restored in {took:?}");
    assert_eq!(
        metric(addr, "eventbank_saga_finished_transfers").await,
        Some(0.0)
    );
    assert_eq!(
        metric(addr, "eventbank_saga_pending_transfers").await,
        Some(0.0)
    );

    // Nothing was credited, refunded or ended twice along the way.
    let ended = transfer_events(&bank.kafka).await;
    assert_eq!(ended.len(), all.len());
    assert_transfers_settled_once(&ended, &bank.accounts().await);
}
