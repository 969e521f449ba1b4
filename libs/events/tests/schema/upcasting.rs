//! The upcasting hook, exercised against real v1 bytes.
//!
//! `DepositedV2` is what a second version of the account-event envelope could
//! look like: `occurred_at` renamed to `recorded_at`. Registering one upcaster
//! makes the checked-in v1 fixture decode into it — the path a real schema
//! change would take.

use chrono::{DateTime, Utc};
use eventbank_events::wire::{self, Upcaster, WireRecord};
use eventbank_events::{AccountEvent, EventId, StreamId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::samples;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DepositedV2 {
    schema_version: u32,
    event_id: EventId,
    stream_id: StreamId,
    sequence: u64,
    recorded_at: DateTime<Utc>,
    command_id: Value,
    causation_id: Value,
    correlation_id: Value,
    event: AccountEvent,
}

fn rename_occurred_at(record: &mut Map<String, Value>) -> Result<(), String> {
    let at = record
        .remove("occurred_at")
        .ok_or("v1 envelope without `occurred_at`")?;
    record.insert("recorded_at".to_owned(), at);
    Ok(())
}

impl WireRecord for DepositedV2 {
    const KIND: &'static str = "account-event";
    const CURRENT_VERSION: u32 = 2;

    fn upcasters() -> &'static [Upcaster] {
        &[Upcaster {
            from_version: 1,
            upcast: rename_occurred_at,
        }]
    }

    fn key(&self) -> Uuid {
        self.stream_id.as_uuid()
    }
}

fn v1_fixture() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/account-event/money_deposited.json"
    );
    std::fs::read(path).expect("v1 fixture")
}

#[test]
fn v1_bytes_decode_into_the_v2_shape() {
    let decoded: DepositedV2 = wire::decode(&v1_fixture()).expect("upcast");
    let (_, original) = samples::account_events()
        .into_iter()
        .find(|(name, _)| *name == "money_deposited")
        .expect("sample");
    assert_eq!(decoded.schema_version, 2, "lifted to the current version");
    assert_eq!(decoded.recorded_at, original.occurred_at);
    assert_eq!(decoded.event, original.event);
    assert_eq!(decoded.sequence, original.sequence);
    wire::check_upcaster_chain::<DepositedV2>().expect("complete chain");
}

#[test]
fn v2_bytes_skip_the_upcaster_and_v3_bytes_are_refused() {
    let v2: DepositedV2 = wire::decode(&v1_fixture()).expect("upcast");
    let bytes = wire::encode(&v2);
    let json: Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_eq!(json["schema_version"], 2);
    assert!(json.get("occurred_at").is_none());
    assert_eq!(
        wire::decode::<DepositedV2>(&bytes).expect("current version"),
        v2
    );

    let mut v3 = json;
    v3["schema_version"] = 3.into();
    let err = wire::decode::<DepositedV2>(&serde_json::to_vec(&v3).expect("JSON")).unwrap_err();
    assert_eq!(err.code(), "unsupported_version", "{err}");
}

#[test]
fn a_failing_upcaster_is_reported_with_its_reason() {
    let mut json: Value = serde_json::from_slice(&v1_fixture()).expect("JSON");
    json.as_object_mut().expect("object").remove("occurred_at");
    let err = wire::decode::<DepositedV2>(&serde_json::to_vec(&json).expect("JSON")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "account-event: cannot upcast from schema_version 1: v1 envelope without `occurred_at`"
    );
}
