//! Valid account event streams made up for the rebuild stage, produced
//! straight to `account-events` without going through the processor.

use chrono::Utc;
use eventbank_events::{
    AccountEvent, AccountEventEnvelope, AccountId, Amount, CommandId, CorrelationId, Currency,
    EventId, Holder, Money, WireRecord, wire,
};
use eventbank_runtime::kafka::KafkaSettings;
use indicatif::ProgressBar;

use crate::kafka;

/// `events` valid account events over `accounts` streams (opened, then
/// deposits and withdrawals with gapless sequences and true balances),
/// produced with the services' producer settings in chunks.
pub(super) async fn produce_streams(
    kafka: &KafkaSettings,
    topic: &str,
    events: u64,
    accounts: u64,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    let producer = kafka::producer(kafka)?;
    let ids: Vec<AccountId> = (0..accounts).map(|_| AccountId::new()).collect();
    let mut balances = vec![0i64; ids.len()];
    let holder = Holder::parse("Rebuild").expect("a valid holder");
    let command = CommandId::new();
    let correlation = CorrelationId::new();
    let chunk = 50_000u64;
    let mut produced = 0u64;
    while produced < events {
        let n = chunk.min(events - produced);
        let mut records = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
        for i in produced..produced + n {
            let index = usize::try_from(i % accounts).unwrap_or(0);
            let sequence = i / accounts + 1;
            let event = if sequence == 1 {
                AccountEvent::AccountOpened {
                    holder: holder.clone(),
                    currency: Currency::EUR,
                }
            } else if sequence.is_multiple_of(4) && balances[index] >= 50 {
                balances[index] -= 50;
                AccountEvent::MoneyWithdrawn {
                    amount: Amount::new(50).expect("a valid amount"),
                    balance_after: Money::new(balances[index]),
                }
            } else {
                balances[index] += 100;
                AccountEvent::MoneyDeposited {
                    amount: Amount::new(100).expect("a valid amount"),
                    balance_after: Money::new(balances[index]),
                }
            };
            let envelope = AccountEventEnvelope {
                schema_version: <AccountEventEnvelope as WireRecord>::CURRENT_VERSION,
                event_id: EventId::new(),
                stream_id: ids[index].into(),
                sequence,
                occurred_at: Utc::now(),
                command_id: command,
                causation_id: None,
                correlation_id: correlation,
                event,
            };
            records.push((wire::encode_key(ids[index]), wire::encode(&envelope)));
        }
        // Fewer in flight than librdkafka's queue holds: sends are enqueued
        // in order, so each stream's events stay in sequence order.
        kafka::produce(&producer, topic, &records, 20_000, Some(bar)).await?;
        produced += n;
    }
    Ok(())
}
