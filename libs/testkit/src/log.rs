//! Reads what really is in Kafka, to check the service against the log.

use std::collections::BTreeMap;
use std::time::Duration;

use eventbank_events::{
    AccountEvent, AccountEventEnvelope, AccountId, TopicKind, TransferEvent, TransferEventEnvelope,
    TransferId, wire,
};
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
        if record.header(crate::poison::MARKER_HEADER).is_some() {
            continue;
        }
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

/// Every transfer event on the log, by transfer.
pub async fn transfer_events(kafka: &KafkaSettings) -> BTreeMap<TransferId, Vec<TransferEvent>> {
    let mut ended: BTreeMap<TransferId, Vec<TransferEvent>> = BTreeMap::new();
    for record in read_topic(kafka, TopicKind::TransferEvents, false).await {
        let envelope: TransferEventEnvelope =
            wire::decode(record.payload.as_deref().unwrap_or_default()).expect("transfer event");
        ended
            .entry(envelope.transfer_id())
            .or_default()
            .push(envelope.event);
    }
    ended
}

/// The balance after an account's last event.
pub fn balance(events: &[AccountEventEnvelope]) -> i64 {
    events
        .iter()
        .rev()
        .find_map(|envelope| envelope.event.balance_after())
        .map_or(0, |money| money.minor_units())
}

/// How often each leg of each transfer appears in the account streams:
/// (debits, credits, refunds).
pub fn legs(
    streams: &BTreeMap<AccountId, Vec<AccountEventEnvelope>>,
) -> BTreeMap<TransferId, (u32, u32, u32)> {
    let mut legs: BTreeMap<TransferId, (u32, u32, u32)> = BTreeMap::new();
    for envelope in streams.values().flatten() {
        match &envelope.event {
            AccountEvent::TransferDebited { transfer_id, .. } => {
                legs.entry(*transfer_id).or_default().0 += 1
            }
            AccountEvent::TransferCredited { transfer_id, .. } => {
                legs.entry(*transfer_id).or_default().1 += 1
            }
            AccountEvent::TransferRefunded { transfer_id, .. } => {
                legs.entry(*transfer_id).or_default().2 += 1
            }
            AccountEvent::AccountOpened { .. }
            | AccountEvent::MoneyDeposited { .. }
            | AccountEvent::MoneyWithdrawn { .. }
            | AccountEvent::AccountClosed {} => {}
        }
    }
    legs
}

/// Every transfer ended exactly once, and its legs agree with how: a
/// completed one was debited and credited once and never refunded, a failed
/// one debited and refunded once and never credited.
pub fn assert_transfers_settled_once(
    ended: &BTreeMap<TransferId, Vec<TransferEvent>>,
    streams: &BTreeMap<AccountId, Vec<AccountEventEnvelope>>,
) {
    let legs = legs(streams);
    for (id, events) in ended {
        assert_eq!(
            events.len(),
            1,
            "transfer {id} ended {} times",
            events.len()
        );
        let expected = match events[0] {
            TransferEvent::TransferCompleted { .. } => (1, 1, 0),
            TransferEvent::TransferFailed { .. } => (1, 0, 1),
        };
        assert_eq!(
            legs.get(id).copied().unwrap_or_default(),
            expected,
            "legs (debits, credits, refunds) of transfer {id} ending {:?}",
            events[0]
        );
    }
    for (id, counts) in &legs {
        assert!(
            ended.contains_key(id),
            "transfer {id} {counts:?} never ended"
        );
    }
}
