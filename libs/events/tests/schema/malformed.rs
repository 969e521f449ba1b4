//! Malformed input is refused with an error that names the problem — the
//! message is what an operator reads in the dead-letter reason header.

use eventbank_events::wire::{self, WireRecord};
use eventbank_events::{
    AccountEventEnvelope, AccountSnapshot, CommandEnvelope, CommandResult, DecodeError,
};
use serde_json::{Value, json};

use crate::samples;

fn sample_json<T: WireRecord>(samples: Vec<(&'static str, T)>, name: &str) -> Value {
    let (_, record) = samples
        .into_iter()
        .find(|(sample, _)| *sample == name)
        .expect("sample exists");
    serde_json::from_slice(&wire::encode(&record)).expect("JSON")
}

fn command(name: &str) -> Value {
    sample_json(samples::commands(), name)
}

/// `base` with the value at `pointer` replaced (or, for `None`, removed).
fn with(mut base: Value, pointer: &str, value: Option<Value>) -> Vec<u8> {
    let (parent, field) = pointer.rsplit_once('/').expect("a pointer");
    let object = base
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {parent}"));
    match value {
        Some(value) => object.insert(field.to_owned(), value),
        None => object.remove(field),
    };
    serde_json::to_vec(&base).expect("JSON")
}

/// Decodes `bytes`, expecting failure with `code` and a message containing
/// every one of `needles`.
fn refused<T: WireRecord + std::fmt::Debug>(bytes: &[u8], code: &str, needles: &[&str]) {
    let err: DecodeError = wire::decode::<T>(bytes).expect_err("must be refused");
    let message = err.to_string();
    assert_eq!(err.code(), code, "{message}");
    for needle in needles {
        assert!(message.contains(needle), "{needle:?} not in: {message}");
    }
}

#[test]
fn non_positive_amounts() {
    for amount in [json!(0), json!(-5)] {
        let bytes = with(command("deposit"), "/command/amount", Some(amount));
        refused::<CommandEnvelope>(&bytes, "invalid_record", &["amount must be a positive"]);
    }
}

#[test]
fn fractional_amounts() {
    for amount in [json!(10.5), json!(1e3), json!(100.0)] {
        let bytes = with(command("withdraw"), "/command/amount", Some(amount));
        refused::<CommandEnvelope>(&bytes, "invalid_record", &["floating point", "amount"]);
    }
}

#[test]
fn amounts_beyond_i64() {
    let bytes = with(
        command("deposit"),
        "/command/amount",
        Some(json!(9_223_372_036_854_775_808_u64)),
    );
    refused::<CommandEnvelope>(&bytes, "invalid_record", &["amount", "too large"]);
    // Beyond u64, serde_json reads a float: still refused, still about the amount.
    let bytes = br#"{"schema_version":1,"command_id":"3e8f1a2b-5c6d-4e7f-8a9b-0c1d2e3f4a5b","account_id":"5f0c6f1e-8a8b-4d2a-9d55-3c1f2b7e4a10","correlation_id":"7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d","causation_id":null,"issued_at":"2024-11-23T09:15:00Z","command":{"type":"deposit","amount":100000000000000000000000}}"#;
    refused::<CommandEnvelope>(bytes, "invalid_record", &["amount"]);
}

#[test]
fn amount_of_the_wrong_type() {
    let bytes = with(command("deposit"), "/command/amount", Some(json!("500")));
    refused::<CommandEnvelope>(&bytes, "invalid_record", &["amount", "string"]);
}

#[test]
fn balance_must_be_an_integer() {
    let event = sample_json(samples::account_events(), "money_deposited");
    let bytes = with(event, "/event/balance_after", Some(json!(1.5)));
    refused::<AccountEventEnvelope>(
        &bytes,
        "invalid_record",
        &["floating point `1.5`", "integer amount of money"],
    );
}

#[test]
fn lowercase_and_malformed_currencies() {
    let bytes = with(
        command("open_account"),
        "/command/currency",
        Some(json!("eur")),
    );
    refused::<CommandEnvelope>(
        &bytes,
        "invalid_record",
        &["invalid currency \"eur\"", "\"EUR\""],
    );
    let bytes = with(
        command("open_account"),
        "/command/currency",
        Some(json!("EURO")),
    );
    refused::<CommandEnvelope>(&bytes, "invalid_record", &["invalid currency \"EURO\""]);
}

#[test]
fn invalid_holders() {
    let bytes = with(
        command("open_account"),
        "/command/holder",
        Some(json!("   ")),
    );
    refused::<CommandEnvelope>(&bytes, "invalid_record", &["holder must not be empty"]);
    let bytes = with(
        command("open_account"),
        "/command/holder",
        Some(json!("x".repeat(201))),
    );
    refused::<CommandEnvelope>(&bytes, "invalid_record", &["holder is 201 characters"]);
}

#[test]
fn ids_that_are_not_uuids() {
    let bytes = with(command("deposit"), "/account_id", Some(json!("not-a-uuid")));
    refused::<CommandEnvelope>(
        &bytes,
        "invalid_record",
        &["invalid account id \"not-a-uuid\""],
    );
    let bytes = with(
        command("debit_for_transfer"),
        "/command/transfer_id",
        Some(json!("42")),
    );
    refused::<CommandEnvelope>(&bytes, "invalid_record", &["invalid transfer id \"42\""]);
    let bytes = with(command("deposit"), "/command_id", Some(json!(42)));
    refused::<CommandEnvelope>(&bytes, "invalid_record", &["command id (a UUID string)"]);
}

#[test]
fn unknown_fields() {
    let bytes = with(command("deposit"), "/priority", Some(json!("high")));
    refused::<CommandEnvelope>(&bytes, "invalid_record", &["unknown field `priority`"]);
    let bytes = with(command("deposit"), "/command/memo", Some(json!("rent")));
    refused::<CommandEnvelope>(&bytes, "invalid_record", &["unknown field `memo`"]);
    // Even on a variant without fields.
    let bytes = with(
        command("close_account"),
        "/command/force",
        Some(json!(true)),
    );
    refused::<CommandEnvelope>(&bytes, "invalid_record", &["unknown field `force`"]);
    let result = sample_json(samples::command_results(), "rejected");
    let bytes = with(result, "/outcome/rejection/hint", Some(json!("top up")));
    refused::<CommandResult>(&bytes, "invalid_record", &["unknown field `hint`"]);
}

#[test]
fn missing_fields() {
    let bytes = with(command("deposit"), "/command/amount", None);
    refused::<CommandEnvelope>(&bytes, "invalid_record", &["missing field `amount`"]);
    let bytes = with(command("deposit"), "/command/type", None);
    refused::<CommandEnvelope>(&bytes, "invalid_record", &["missing field `type`"]);
    let snapshot = sample_json(samples::account_snapshots(), "open");
    let bytes = with(snapshot, "/balance", None);
    refused::<AccountSnapshot>(&bytes, "invalid_record", &["missing field `balance`"]);
}

#[test]
fn unknown_record_types() {
    let bytes = with(
        command("deposit"),
        "/command/type",
        Some(json!("frobnicate")),
    );
    refused::<CommandEnvelope>(
        &bytes,
        "unknown_type",
        &[
            "account-command",
            "unknown type \"frobnicate\"",
            "command.type",
            "open_account",
        ],
    );
    let event = sample_json(samples::account_events(), "account_opened");
    let bytes = with(event, "/event/type", Some(json!("AccountOpened")));
    refused::<AccountEventEnvelope>(&bytes, "unknown_type", &["\"AccountOpened\""]);
    let result = sample_json(samples::command_results(), "accepted");
    let bytes = with(result, "/outcome/status", Some(json!("pending")));
    refused::<CommandResult>(&bytes, "unknown_type", &["\"pending\"", "outcome.status"]);
}

#[test]
fn unknown_enum_values_inside_a_record() {
    let result = sample_json(samples::command_results(), "rejected");
    let bytes = with(result, "/outcome/rejection/code", Some(json!("bogus")));
    refused::<CommandResult>(&bytes, "invalid_record", &["unknown variant `bogus`"]);
}

#[test]
fn missing_schema_version() {
    let bytes = with(command("deposit"), "/schema_version", None);
    refused::<CommandEnvelope>(
        &bytes,
        "missing_schema_version",
        &["missing `schema_version`"],
    );
}

#[test]
fn future_schema_version() {
    let bytes = with(command("deposit"), "/schema_version", Some(json!(2)));
    refused::<CommandEnvelope>(
        &bytes,
        "unsupported_version",
        &["schema_version 2 is newer", "up to 1", "upgrade"],
    );
}

#[test]
fn nonsense_schema_version() {
    for version in [json!("1"), json!(-1), json!(0), json!(1.5), json!(null)] {
        let bytes = with(command("deposit"), "/schema_version", Some(version));
        refused::<CommandEnvelope>(&bytes, "invalid_schema_version", &["positive integer"]);
    }
}

#[test]
fn truncated_and_non_json_input() {
    let bytes = serde_json::to_vec_pretty(&command("deposit")).expect("JSON");
    let truncated = &bytes[..bytes.len() / 2];
    refused::<CommandEnvelope>(
        truncated,
        "invalid_json",
        &["account-command", "EOF", "line"],
    );
    refused::<CommandEnvelope>(b"", "invalid_json", &["EOF"]);
    refused::<CommandEnvelope>(b"\xff\xfe", "invalid_json", &["line 1"]);
    refused::<CommandEnvelope>(b"[1, 2]", "not_an_object", &["found an array"]);
    refused::<CommandEnvelope>(b"{} trailing", "invalid_json", &["trailing characters"]);
}

#[test]
fn long_garbage_is_not_echoed_whole() {
    let id = "z".repeat(100_000);
    let bytes = with(command("deposit"), "/account_id", Some(json!(id)));
    let err = wire::decode::<CommandEnvelope>(&bytes).expect_err("refused");
    assert!(
        err.to_string().len() < 400,
        "{} bytes",
        err.to_string().len()
    );
}
