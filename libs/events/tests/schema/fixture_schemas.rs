//! The schemas of the AsyncAPI document against real records: every golden
//! fixture validates against its message's payload schema, and records the
//! decoder refuses (broken copies of fixtures) are refused by the schema
//! too, so the published contract is neither looser nor stricter than the
//! code on the cases that matter.
//!
//! Known gap: JSON Schema cannot tell `100.0` from `100` (one number to it),
//! while the decoder refuses a fraction in an amount. Producers write
//! integers; the `integer` type documents that.

use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use eventbank_events::asyncapi;
use eventbank_events::wire::{self, WireRecord};
use eventbank_events::{
    AccountEventEnvelope, AccountSnapshot, CommandEnvelope, CommandResult, DeadLetter,
    RememberedOutcome, TransferEventEnvelope, TransferSagaSnapshot,
};
use jsonschema::{Draft, Validator};
use serde_json::{Map, Value, json};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A validator for the schema at `pointer` in `document`, with the
/// document's components beside it so its `$ref`s resolve as they do in the
/// document. Draft 7, which AsyncAPI's schema format extends; formats
/// (`uuid`, `date-time`) are checked, not just annotations.
fn validator(document: &Value, pointer: &str) -> Validator {
    let schema = document
        .pointer(pointer)
        .unwrap_or_else(|| panic!("nothing at {pointer}"));
    let root = json!({ "allOf": [schema], "components": document["components"] });
    jsonschema::options()
        .with_draft(Draft::Draft7)
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|err| panic!("{pointer} is not a valid schema: {err}"))
}

/// The pointer to the payload schema of the message named `kind` (a
/// [`WireRecord::KIND`]). Inbox copies share the name and the payload.
fn payload_pointer(document: &Value, kind: &str) -> String {
    let messages = document["components"]["messages"]
        .as_object()
        .expect("messages");
    let (id, _) = messages
        .iter()
        .find(|(_, message)| message["name"] == kind)
        .unwrap_or_else(|| panic!("no message named {kind}"));
    format!("/components/messages/{id}/payload")
}

fn errors(validator: &Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect()
}

/// The `schema_version` the payload schema at `pointer` describes.
fn schema_version(document: &Value, pointer: &str) -> Value {
    let reference = document
        .pointer(&format!("{pointer}/$ref"))
        .expect("a $ref");
    let schema = reference
        .as_str()
        .and_then(|reference| document.pointer(reference.trim_start_matches('#')))
        .expect("the payload schema");
    schema["properties"]["schema_version"]["const"].clone()
}

/// Fixtures of older versions stay on disk (they prove old bytes decode)
/// but are not of the current shape: those of the version the schema
/// describes are checked, and there must be some of every kind.
#[test]
fn every_golden_fixture_matches_its_message_schema() {
    let document = asyncapi::document();
    let mut checked = 0;
    for kind_dir in std::fs::read_dir(fixtures_dir()).expect("fixtures") {
        let kind_dir = kind_dir.expect("dir entry").path();
        if !kind_dir.is_dir() {
            continue;
        }
        let kind = kind_dir.file_name().and_then(|n| n.to_str()).expect("name");
        let pointer = payload_pointer(&document, kind);
        let version = schema_version(&document, &pointer);
        let validator = validator(&document, &pointer);
        let mut current = 0;
        for file in std::fs::read_dir(&kind_dir).expect("kind dir") {
            let path = file.expect("dir entry").path();
            let bytes = std::fs::read(&path).expect("fixture");
            let fixture: Value = serde_json::from_slice(&bytes).expect("fixture is JSON");
            if fixture["schema_version"] != version {
                continue;
            }
            let problems = errors(&validator, &fixture);
            assert!(problems.is_empty(), "{}: {problems:#?}", path.display());
            current += 1;
        }
        assert!(current > 0, "no {kind} fixture of version {version}");
        checked += current;
    }
    assert!(checked >= 29, "only {checked} fixtures found");
}

/// Whether the decoder of record kind `kind` accepts `bytes`.
fn decodes(kind: &str, bytes: &[u8]) -> bool {
    fn ok<T: WireRecord>(bytes: &[u8]) -> bool {
        wire::decode::<T>(bytes).is_ok()
    }
    match kind {
        "account-command" => ok::<CommandEnvelope>(bytes),
        "account-event" => ok::<AccountEventEnvelope>(bytes),
        "account-snapshot" => ok::<AccountSnapshot>(bytes),
        "command-memory" => ok::<RememberedOutcome>(bytes),
        "command-result" => ok::<CommandResult>(bytes),
        "transfer-event" => ok::<TransferEventEnvelope>(bytes),
        "transfer-saga-snapshot" => ok::<TransferSagaSnapshot>(bytes),
        other => panic!("unknown record kind {other}"),
    }
}

/// A fixture with the value at `pointer` replaced (`None`: removed).
fn broken(fixture: &str, pointer: &str, value: Option<Value>) -> Value {
    let path = fixtures_dir().join(format!("{fixture}.json"));
    let mut record: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("fixture")).expect("JSON");
    let (parent, field) = pointer.rsplit_once('/').expect("a pointer");
    let target = record
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("{fixture}: nothing at {parent}"));
    match (target, value) {
        (Value::Object(object), Some(value)) => {
            object.insert(field.to_owned(), value);
        }
        (Value::Object(object), None) => {
            object.remove(field);
        }
        (Value::Array(items), Some(value)) => {
            items[field.parse::<usize>().expect("an index")] = value;
        }
        (other, _) => panic!("{fixture}: cannot edit {other} at {parent}"),
    }
    record
}

#[test]
fn broken_fixtures_are_refused_by_the_schema_and_the_decoder_alike() {
    let deposit = "account-command/deposit";
    let open = "account-command/open_account";
    let cases: Vec<(&str, &str, Option<Value>)> = vec![
        (deposit, "/command/amount", Some(json!(0))),
        (deposit, "/command/amount", Some(json!(-5))),
        (deposit, "/command/amount", Some(json!(10.5))),
        (deposit, "/command/amount", Some(json!("500"))),
        (deposit, "/command/surprise", Some(json!(1))),
        (deposit, "/surprise", Some(json!(1))),
        (deposit, "/command/type", Some(json!("teleport"))),
        (deposit, "/schema_version", None),
        (deposit, "/schema_version", Some(json!(2))),
        (deposit, "/account_id", Some(json!("not-a-uuid"))),
        (deposit, "/command_id", None),
        (deposit, "/issued_at", Some(json!("yesterday"))),
        (open, "/command/currency", Some(json!("eur"))),
        (open, "/command/currency", Some(json!("EURO"))),
        (open, "/command/holder", Some(json!(""))),
        (open, "/command/holder", Some(json!("Ann\nLee"))),
        (open, "/command/holder", Some(json!("x".repeat(201)))),
        (
            "account-event/money_deposited",
            "/event/balance_after",
            Some(json!("50000")),
        ),
        (
            "account-event/money_deposited",
            "/sequence",
            Some(json!(-1)),
        ),
        ("account-event/transfer_debited", "/event/currency", None),
        (
            "command-result/rejected",
            "/outcome/rejection/code",
            Some(json!("bad_luck")),
        ),
        (
            "command-result/rejected",
            "/outcome/status",
            Some(json!("maybe")),
        ),
        (
            "command-memory/accepted",
            "/outcome/events/0",
            Some(json!("x")),
        ),
        ("account-snapshot/open", "/status", Some(json!("frozen"))),
        (
            "transfer-saga-snapshot/crediting",
            "/step",
            Some(json!("lost")),
        ),
        (
            "transfer-event/transfer_failed",
            "/event/reason",
            Some(json!("bad_weather")),
        ),
    ];
    let document = asyncapi::document();
    for (fixture, pointer, value) in cases {
        let kind = fixture.split_once('/').map_or(fixture, |(kind, _)| kind);
        let record = broken(fixture, pointer, value.clone());
        let bytes = serde_json::to_vec(&record).expect("JSON");
        let case = format!("{fixture} with {pointer} = {value:?}");
        assert!(!decodes(kind, &bytes), "the decoder accepts {case}");
        let validator = validator(&document, &payload_pointer(&document, kind));
        assert!(
            !validator.is_valid(&record),
            "the schema accepts {case}, which the decoder refuses"
        );
    }
}

#[test]
fn dead_letter_headers_match_their_schema() {
    let document = asyncapi::document();
    let validator = validator(&document, "/components/messages/deadLetter/headers");
    let letter = DeadLetter {
        source_topic: "account-events".into(),
        partition: 3,
        offset: 1_234_567,
        consumer: "balance-projector/projector".into(),
        reason: "account-event: invalid JSON".into(),
        failed_at: Utc
            .timestamp_opt(1_700_000_000, 0)
            .single()
            .expect("a time"),
    };
    let mut headers: Map<String, Value> = letter
        .headers()
        .into_iter()
        .map(|(name, value)| (name.to_owned(), Value::from(value)))
        .collect();
    // A copied trace context is allowed; the consumer's own replaces it.
    headers.insert(
        "traceparent".into(),
        json!("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
    );
    let headers = Value::Object(headers);
    let problems = errors(&validator, &headers);
    assert!(problems.is_empty(), "{problems:#?}");

    let mut without_reason = headers.clone();
    without_reason
        .as_object_mut()
        .expect("an object")
        .remove(eventbank_events::dead_letter::HEADER_REASON);
    assert!(
        !validator.is_valid(&without_reason),
        "the reason is required"
    );
}
