//! encode → decode is the identity, for every sample and for freshly minted
//! values (random ids, the current time with nanoseconds, extreme amounts).

use std::fmt::Debug;

use chrono::Utc;
use eventbank_events::wire::{self, WireRecord};
use eventbank_events::{
    AccountCommand, AccountEvent, AccountEventEnvelope, AccountId, Amount, CommandEnvelope,
    CommandId, CorrelationId, Currency, EventId, Money, TransferId,
};

use crate::samples;

fn round_trip<T: WireRecord + PartialEq + Debug>(record: &T) {
    let bytes = wire::encode(record);
    let decoded: T = wire::decode(&bytes)
        .unwrap_or_else(|err| panic!("{err}\n{}", String::from_utf8_lossy(&bytes)));
    assert_eq!(&decoded, record);
}

fn round_trip_all<T: WireRecord + PartialEq + Debug>(samples: &[(&'static str, T)]) {
    samples.iter().for_each(|(_, record)| round_trip(record));
}

#[test]
fn every_sample_round_trips() {
    round_trip_all(&samples::commands());
    round_trip_all(&samples::account_events());
    round_trip_all(&samples::transfer_events());
    round_trip_all(&samples::command_results());
    round_trip_all(&samples::account_snapshots());
    round_trip_all(&samples::saga_snapshots());
}

#[test]
fn fresh_values_round_trip() {
    let command = CommandEnvelope::new(
        CommandId::new(),
        AccountId::new(),
        CorrelationId::new(),
        Utc::now(),
        AccountCommand::DebitForTransfer {
            transfer_id: TransferId::new(),
            to: AccountId::new(),
            amount: Amount::MAX,
        },
    )
    .caused_by(EventId::new());
    round_trip(&command);

    let event = AccountEventEnvelope::for_command(
        &command,
        u64::MAX,
        Utc::now(),
        AccountEvent::TransferDebited {
            transfer_id: TransferId::new(),
            to: AccountId::new(),
            amount: Amount::MAX,
            currency: Currency::parse("JPY").expect("valid"),
            balance_after: Money::new(i64::MIN),
        },
    );
    round_trip(&event);
}

#[test]
fn event_envelope_for_a_command_carries_its_provenance() {
    let (_, command) = samples::commands()
        .into_iter()
        .find(|(name, _)| *name == "credit_for_transfer")
        .expect("sample");
    let event = AccountEventEnvelope::for_command(
        &command,
        7,
        samples::at(15, 42),
        AccountEvent::AccountClosed {},
    );
    assert_eq!(event.account_id(), command.account_id);
    assert_eq!(event.command_id, command.command_id);
    assert_eq!(event.causation_id, Some(samples::DEBITED_EVENT));
    assert_eq!(event.correlation_id, command.correlation_id);
    assert_eq!(event.schema_version, AccountEventEnvelope::CURRENT_VERSION);
    assert_eq!(event.event_id.as_uuid().get_version_num(), 7);
    assert_eq!(event.event.event_type(), "account_closed");
}

#[test]
fn keys_follow_the_topic_conventions() {
    let (_, command) = samples::commands().remove(0);
    assert_eq!(
        wire::encode_key(command.key()),
        command.account_id.to_string().into_bytes()
    );

    let (_, result) = samples::command_results().remove(0);
    assert_eq!(result.key(), result.command_id.as_uuid());

    let (_, event) = samples::transfer_events().remove(0);
    assert_eq!(event.key(), samples::TRANSFER.as_uuid());
    assert_eq!(event.transfer_id(), samples::TRANSFER);

    let (_, saga) = samples::saga_snapshots().remove(0);
    assert_eq!(saga.key(), saga.transfer_id.as_uuid());
}

#[test]
fn every_upcaster_chain_is_complete() {
    use eventbank_events::wire::check_upcaster_chain;
    check_upcaster_chain::<CommandEnvelope>().unwrap();
    check_upcaster_chain::<AccountEventEnvelope>().unwrap();
    check_upcaster_chain::<eventbank_events::TransferEventEnvelope>().unwrap();
    check_upcaster_chain::<eventbank_events::CommandResult>().unwrap();
    check_upcaster_chain::<eventbank_events::AccountSnapshot>().unwrap();
    check_upcaster_chain::<eventbank_events::TransferSagaSnapshot>().unwrap();
}
