//! Reads what really is in Kafka, to check the service against the log.

use std::collections::BTreeMap;
use std::time::Duration;

use eventbank_events::{AccountEventEnvelope, AccountId, TopicKind, wire};
use eventbank_runtime::kafka::{KafkaSettings, OwnedRecord, read_partition};

pub async fn read_topic(settings: &KafkaSettings, kind: TopicKind, dlq: bool) -> Vec<OwnedRecord> {
    let topics = settings.topics();
    let topic = if dlq {
        topics.dlq(kind)
    } else {
        topics.name(kind)
    };
    let mut records = Vec::new();
    for partition in 0..settings.topics.partitions {
        let (settings, topic) = (settings.clone(), topic.clone());
        records.extend(
            tokio::task::spawn_blocking(move || {
                read_partition(&settings, &topic, partition, Duration::from_secs(90))
            })
            .await
            .expect("join")
            .expect("read partition"),
        );
    }
    records
}

/// Every account's events, in log order.
pub async fn account_events(
    settings: &KafkaSettings,
) -> BTreeMap<AccountId, Vec<AccountEventEnvelope>> {
    let mut streams: BTreeMap<AccountId, Vec<AccountEventEnvelope>> = BTreeMap::new();
    for record in read_topic(settings, TopicKind::AccountEvents, false).await {
        let event: AccountEventEnvelope =
            wire::decode(record.payload.as_deref().unwrap_or_default()).expect("events decode");
        streams.entry(event.account_id()).or_default().push(event);
    }
    streams
}

/// The invariants every stream must keep, whatever happened: sequences 1..n
/// without gaps or repeats, and each `balance_after` equal to the running sum.
pub fn assert_streams_consistent(streams: &BTreeMap<AccountId, Vec<AccountEventEnvelope>>) {
    use eventbank_events::AccountEvent as E;
    for (account, events) in streams {
        let mut balance: i64 = 0;
        for (index, envelope) in events.iter().enumerate() {
            assert_eq!(
                envelope.sequence,
                index as u64 + 1,
                "gapless sequence in {account}"
            );
            let delta = match &envelope.event {
                E::MoneyDeposited { amount, .. }
                | E::TransferCredited { amount, .. }
                | E::TransferRefunded { amount, .. } => amount.minor_units(),
                E::MoneyWithdrawn { amount, .. } | E::TransferDebited { amount, .. } => {
                    -amount.minor_units()
                }
                E::AccountOpened { .. } | E::AccountClosed { .. } => 0,
            };
            balance += delta;
            assert!(balance >= 0, "balance of {account} went negative");
            if let Some(after) = envelope.event.balance_after() {
                assert_eq!(
                    after.minor_units(),
                    balance,
                    "balance_after of {account}#{}",
                    envelope.sequence
                );
            }
        }
    }
}
