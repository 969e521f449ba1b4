//! Poison records: every way a consumed record can be wrong, derived from
//! one valid wire-encoded value so each differs from a good record in one
//! respect only.

use eventbank_runtime::kafka::OwnedRecord;
use serde_json::{Value, json};

/// A header tests put on the poison they write to a topic that the log
/// readers (`log::account_events`) fold: those skip records carrying it, and
/// only those — any other undecodable record still fails the test.
pub const MARKER_HEADER: &str = "x-eventbank-test-poison";

/// `(what is wrong, value)` for each kind of poison. `valid` is a valid
/// encoded envelope whose payload sits under `payload_field` (`event`,
/// `outcome`, …), tagged by its field `tag` (`type`, `status`).
pub fn variants(valid: &[u8], payload_field: &str, tag: &str) -> Vec<(&'static str, Vec<u8>)> {
    let envelope: Value = serde_json::from_slice(valid).expect("a valid JSON envelope");
    let edited = |edit: &dyn Fn(&mut Value)| {
        let mut value = envelope.clone();
        edit(&mut value);
        serde_json::to_vec(&value).expect("encode")
    };
    let mut big = b"{\"pad\":\"".to_vec();
    big.resize(900 * 1024, b'x');
    big.extend_from_slice(b"\"}");
    vec![
        ("not JSON", b"{not json".to_vec()),
        ("not UTF-8", vec![0xff, 0xfe, 0x00, 0x7b]),
        ("empty value", Vec::new()),
        (
            "unknown payload type",
            edited(&|v| v[payload_field][tag] = json!("mint")),
        ),
        (
            "future schema version",
            edited(&|v| v["schema_version"] = json!(99)),
        ),
        (
            "schema version of the wrong type",
            edited(&|v| v["schema_version"] = json!("1")),
        ),
        (
            "envelope without its payload",
            edited(&|v| {
                if let Some(object) = v.as_object_mut() {
                    object.remove(payload_field);
                }
            }),
        ),
        ("900 KB value", big),
    ]
}

/// Asserts a dead-letter topic's `letters` (in the order read) are `poison`
/// as it was written: one letter each, in order, the original bytes kept.
pub fn assert_kept_as_written(poison: &[(&str, Vec<u8>)], letters: &[OwnedRecord]) {
    assert_eq!(letters.len(), poison.len(), "each poison record once");
    for ((kind, value), letter) in poison.iter().zip(letters) {
        assert_eq!(
            letter.payload.as_deref().unwrap_or_default(),
            value.as_slice(),
            "{kind}: original bytes kept, in order"
        );
    }
}
