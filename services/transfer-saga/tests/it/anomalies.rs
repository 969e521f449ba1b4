//! Inbox records that contradict their saga, on the real broker: a second,
//! different debit under a transfer id is dead-lettered with the reason and
//! counted, whether the transfer is still pending or already finished, while
//! the exact same debit again changes nothing.

use crate::common;

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::TimeDelta;
use common::{Bank, LONG, metric};
use eventbank_events::{
    AccountEvent, AccountEventEnvelope, Amount, EventId, TopicKind, TransferEvent, TransferId, wire,
};
use eventbank_runtime::kafka::KafkaSettings;
use eventbank_testkit::log::read_topic;
use eventbank_testkit::log::{assert_transfers_settled_once, transfer_events};
use eventbank_testkit::{InProcess, eventually};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use transfer_saga::inbox::{InboxKind, KIND_HEADER};

const DEADLINE_MS: u64 = 60_000;

/// Puts `envelope` on the inbox the way the router does: keyed by transfer
/// id (so on the partition the router would choose), marked as an account
/// event.
async fn write_to_inbox(kafka: &KafkaSettings, id: TransferId, envelope: &AccountEventEnvelope) {
    write_as_account_event(
        &kafka.producer().expect("producer"),
        &kafka.topics().name(TopicKind::TransferSagaInbox),
        &wire::encode_key(id),
        &wire::encode(envelope),
        OwnedHeaders::new(),
    )
    .await;
}

/// Writes `key` and `payload` to `topic` with `headers`, marked as the
/// router marks an account event on the inbox.
async fn write_as_account_event(
    producer: &FutureProducer,
    topic: &str,
    key: &[u8],
    payload: &[u8],
    headers: OwnedHeaders,
) {
    let headers = headers.insert(Header {
        key: KIND_HEADER,
        value: Some(InboxKind::AccountEvent.as_str()),
    });
    producer
        .send(
            FutureRecord::to(topic)
                .key(key)
                .payload(payload)
                .headers(headers),
            Duration::from_secs(30),
        )
        .await
        .map_err(|(err, _)| err)
        .expect("written");
}

/// `debit` with another amount and event id: what a second debit under the
/// same transfer id would look like.
fn conflicting(
    debit: &AccountEventEnvelope,
    amount: i64,
    later: TimeDelta,
) -> AccountEventEnvelope {
    let mut other = debit.clone();
    other.event_id = EventId::new();
    other.occurred_at = debit.occurred_at + later;
    if let AccountEvent::TransferDebited { amount: taken, .. } = &mut other.event {
        *taken = Amount::new(amount).expect("positive");
    }
    other
}

/// The reasons of the inbox's dead letters.
async fn dead_letter_reasons(kafka: &KafkaSettings) -> Vec<String> {
    read_topic(kafka, TopicKind::TransferSagaInbox, true)
        .await
        .iter()
        .map(|record| record.dead_letter().expect("dead-letter headers").reason)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_different_debit_under_a_transfer_id_is_dead_lettered_pending_or_finished() {
    let bank = Bank::start("saga-conflicting-debit", true).await;
    let ann = bank.account("Ann", "EUR", 1_000).await;
    let bob = bank.account("Bob", "EUR", 0).await;
    // Debited while no saga runs, so the test decides what the saga's inbox
    // holds before the router copies the debit there.
    let id: TransferId = bank
        .transfer(&ann.to_string(), &bob.to_string(), 100)
        .await
        .expect("debited");
    let debit = bank.debit(ann, id).await;

    let (app, saga_addr) = bank.build_saga(bank.saga_settings(DEADLINE_MS)).await;
    // The debit, then a different one while the saga is pending; the router
    // then copies the real debit once more (the same debit again: a no-op).
    let while_pending = conflicting(&debit, 900, TimeDelta::zero());
    write_to_inbox(&bank.kafka, id, &debit).await;
    write_to_inbox(&bank.kafka, id, &while_pending).await;
    let _saga = InProcess::run(app);

    let ended = bank.await_ended(&BTreeSet::from([id])).await;
    assert!(
        matches!(ended[&id].as_slice(), [TransferEvent::TransferCompleted { amount, .. }] if amount.minor_units() == 100),
        "the transfer completes with its first debit: {:?}",
        ended[&id]
    );
    // Once finished: the same debit again (a no-op; were it dead-lettered,
    // it would come before the next one), then a debit of the same terms but
    // a later event.
    let once_finished = conflicting(&debit, 100, TimeDelta::seconds(1));
    write_to_inbox(&bank.kafka, id, &debit).await;
    write_to_inbox(&bank.kafka, id, &once_finished).await;

    let reasons = eventually("both conflicting debits dead-lettered", LONG, || async {
        let reasons = dead_letter_reasons(&bank.kafka).await;
        (reasons.len() >= 2).then_some(reasons)
    })
    .await;
    eprintln!("dead letters: {reasons:#?}");
    assert_eq!(
        reasons.len(),
        2,
        "only the two different debits: {reasons:?}"
    );
    for (reason, conflict) in reasons.iter().zip([&while_pending, &once_finished]) {
        assert!(
            reason.contains(&format!("transfer {id}"))
                && reason.contains("different debit")
                && reason.contains(&conflict.event_id.to_string()),
            "{reason}"
        );
    }
    let anomalies = eventually("the anomalies counted", LONG, || async {
        metric(saga_addr, "eventbank_saga_anomalies_total")
            .await
            .filter(|count| *count >= 2.0)
    })
    .await;
    assert_eq!(anomalies, 2.0);

    let streams = bank.accounts().await;
    let ended = transfer_events(&bank.kafka).await;
    assert_transfers_settled_once(&ended, &streams);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_of_every_kind_on_every_saga_input_is_dead_lettered_and_transfers_still_complete() {
    let bank = Bank::start("saga-poison", true).await;
    let ann = bank.account("Ann", "EUR", 1_000).await;
    let bob = bank.account("Bob", "EUR", 0).await;
    let (app, saga_addr) = bank.build_saga(bank.saga_settings(DEADLINE_MS)).await;
    let fixture = |path: &str| {
        std::fs::read(format!(
            "{}/../../libs/events/tests/fixtures/{path}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("fixture")
    };
    let inputs = [
        (
            TopicKind::AccountEvents,
            eventbank_testkit::poison::variants(
                &fixture("account-event/transfer_debited.json"),
                "event",
                "type",
            ),
        ),
        (
            TopicKind::CommandResults,
            eventbank_testkit::poison::variants(
                &fixture("command-result/rejected_with_transfer_id.json"),
                "outcome",
                "status",
            ),
        ),
        (
            TopicKind::TransferSagaInbox,
            eventbank_testkit::poison::variants(
                &fixture("account-event/transfer_debited.json"),
                "event",
                "type",
            ),
        ),
    ];
    let producer = bank.kafka.producer().expect("producer");
    for (kind, poison) in &inputs {
        let topic = bank.kafka.topics().name(*kind);
        for (_, value) in poison {
            // Ann's key on her partitions; the inbox is keyed by transfer.
            let key = match kind {
                TopicKind::TransferSagaInbox => wire::encode_key(TransferId::new()),
                _ => wire::encode_key(ann),
            };
            let marked = OwnedHeaders::new().insert(Header {
                key: eventbank_testkit::poison::MARKER_HEADER,
                value: Some("1"),
            });
            write_as_account_event(&producer, &topic, &key, value, marked).await;
        }
    }
    let _saga = InProcess::run(app);

    // Behind the poison, in the same partitions: transfers still complete.
    let ids = bank.transfers(4, ann, bob, 10).await;
    let ended = bank.await_ended(&ids).await;
    assert_transfers_settled_once(&ended, &bank.accounts().await);

    for (kind, poison) in &inputs {
        let letters = eventually("every dead letter", LONG, || async {
            let found = read_topic(&bank.kafka, *kind, true).await;
            (found.len() >= poison.len()).then_some(found)
        })
        .await;
        assert_eq!(
            letters.len(),
            poison.len(),
            "{kind:?}: each poison record once"
        );
        let mut sent: Vec<&[u8]> = poison.iter().map(|(_, v)| v.as_slice()).collect();
        let mut got: Vec<&[u8]> = letters
            .iter()
            .map(|r| r.payload.as_deref().unwrap_or_default())
            .collect();
        // The inbox's poison spread over partitions: compare as sets.
        sent.sort();
        got.sort();
        assert_eq!(got, sent, "{kind:?}: original bytes kept");
        for letter in &letters {
            let reason = letter.dead_letter().expect("dead-letter headers").reason;
            assert!(!reason.is_empty(), "{kind:?}: a reason");
        }
    }
    let metrics = eventbank_testkit::metrics::scrape(&format!("http://{saga_addr}"))
        .await
        .expect("/metrics");
    let counted = eventbank_testkit::metrics::sum(&metrics, "eventbank_txn_dead_letters_total{");
    let sent: usize = inputs.iter().map(|(_, poison)| poison.len()).sum();
    assert_eq!(counted as usize, sent, "each counted: {metrics}");
}
