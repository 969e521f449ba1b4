//! The bytes each audit record's hash covers, and the hash itself.
//!
//! `hash = SHA-256(prev_hash ‖ canonical)`, where `prev_hash` is the 32 raw
//! bytes of the previous record's hash in the same stream (32 zero bytes for a
//! stream's first record) and `canonical` is the UTF-8 of a compact JSON
//! object with keys sorted by their bytes, no whitespace, strings escaped the
//! way `serde_json` escapes them, and these members:
//!
//! | key              | value                                                    |
//! |------------------|----------------------------------------------------------|
//! | `event_id`       | the record's unique id (event id, or command id of a rejection), hyphenated lowercase UUID |
//! | `kafka_offset`, `kafka_partition`, `kafka_topic` | where the record was read |
//! | `occurred_at`, `recorded_at` | RFC 3339 UTC with exactly six fractional digits and `Z` |
//! | `payload`        | the stored payload, canonicalised the same way (recursively sorted keys) |
//! | `position`       | the record's gapless position in its audit stream (1, 2, …) |
//! | `record_type`    | the event's `type`, or `command_rejected`                |
//! | `sequence`       | the event's stream sequence, or `null` for a rejection   |
//! | `stream_id`, `stream_kind` | the chain the record belongs to (`account` or `transfer`) |
//!
//! Everything is recomputed from stored columns alone: PostgreSQL's `jsonb`
//! reorders keys and drops whitespace, so the payload is hashed in a form that
//! survives the round trip, and timestamps are cut to the microseconds a
//! `timestamptz` keeps *before* they are stored and hashed. An auditor can
//! recompute every hash from the CSV or JSON export with any SHA-256 tool.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The `prev_hash` of a stream's first record.
pub const GENESIS: Hash = [0; 32];

/// The columns a record's hash covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainedFields<'a> {
    pub stream_id: Uuid,
    pub stream_kind: &'a str,
    pub position: i64,
    pub sequence: Option<i64>,
    pub event_id: Uuid,
    pub record_type: &'a str,
    pub payload: &'a Value,
    pub kafka_topic: &'a str,
    pub kafka_partition: i32,
    pub kafka_offset: i64,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
}

impl ChainedFields<'_> {
    /// The canonical bytes described in the module documentation.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let document = serde_json::json!({
            "event_id": self.event_id.hyphenated().to_string(),
            "kafka_offset": self.kafka_offset,
            "kafka_partition": self.kafka_partition,
            "kafka_topic": self.kafka_topic,
            "occurred_at": timestamp(self.occurred_at),
            "payload": self.payload,
            "position": self.position,
            "record_type": self.record_type,
            "recorded_at": timestamp(self.recorded_at),
            "sequence": self.sequence,
            "stream_id": self.stream_id.hyphenated().to_string(),
            "stream_kind": self.stream_kind,
        });
        let mut out = Vec::with_capacity(512);
        write_canonical(&document, &mut out);
        out
    }

    /// `SHA-256(prev ‖ canonical bytes)`.
    pub fn hash(&self, prev: &Hash) -> Hash {
        let mut hasher = Sha256::new();
        hasher.update(prev);
        hasher.update(self.canonical_bytes());
        hasher.finalize().into()
    }
}

/// The form timestamps take in the hash and in every export.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// `at` without the nanoseconds a `timestamptz` cannot keep, so what is hashed
/// is exactly what is stored.
pub fn to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

/// Compact JSON with object keys sorted by their UTF-8 bytes at every level.
///
/// Written out rather than relying on `serde_json::Map` iteration order,
/// which depends on whether any crate in the build enables `preserve_order`.
pub fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push(b'{');
            for (index, key) in keys.into_iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_scalar(&Value::String(key.clone()), out);
                out.push(b':');
                write_canonical(&map[key.as_str()], out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => write_scalar(scalar, out),
    }
}

fn write_scalar(value: &Value, out: &mut Vec<u8>) {
    // Serializing a string, number, bool or null into a Vec cannot fail.
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.extend_from_slice(b"null");
    }
}

/// Lowercase hexadecimal.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// A stored `bytea` as a hash; anything not 32 bytes long (a tampered
/// column) becomes a value no real hash equals.
pub fn hash_from_bytes(bytes: &[u8]) -> Option<Hash> {
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn fields(payload: &Value) -> ChainedFields<'_> {
        ChainedFields {
            stream_id: Uuid::from_u128(1),
            stream_kind: "account",
            position: 3,
            sequence: Some(3),
            event_id: Uuid::from_u128(2),
            record_type: "money_deposited",
            payload,
            kafka_topic: "account-events",
            kafka_partition: 1,
            kafka_offset: 42,
            occurred_at: Utc.timestamp_opt(1_700_000_000, 123_456_000).unwrap(),
            recorded_at: Utc.timestamp_opt(1_700_000_001, 0).unwrap(),
        }
    }

    #[test]
    fn canonical_json_sorts_keys_recursively_and_is_compact() {
        let value = json!({"b": 1, "a": {"z": [3, {"y": null, "x": "é\"\n"}], "c": true}});
        let mut out = Vec::new();
        write_canonical(&value, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a":{"c":true,"z":[3,{"x":"é\"\n","y":null}]},"b":1}"#
        );
    }

    #[test]
    fn canonical_bytes_survive_a_jsonb_style_round_trip() {
        // jsonb hands back the same members in another order and spacing.
        let stored = json!({"event": {"amount": 500, "type": "money_deposited"}, "sequence": 3});
        let reread: Value = serde_json::from_str(
            r#"{ "sequence" : 3, "event": {"type": "money_deposited", "amount": 500} }"#,
        )
        .unwrap();
        assert_eq!(
            fields(&stored).canonical_bytes(),
            fields(&reread).canonical_bytes()
        );
    }

    #[test]
    fn the_canonical_form_is_pinned() {
        let payload = json!({"amount": 500});
        let text = String::from_utf8(fields(&payload).canonical_bytes()).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"{"event_id":"00000000-0000-0000-0000-000000000002","kafka_offset":42,"#,
                r#""kafka_partition":1,"kafka_topic":"account-events","#,
                r#""occurred_at":"2023-11-14T22:13:20.123456Z","payload":{"amount":500},"#,
                r#""position":3,"record_type":"money_deposited","#,
                r#""recorded_at":"2023-11-14T22:13:21.000000Z","sequence":3,"#,
                r#""stream_id":"00000000-0000-0000-0000-000000000001","stream_kind":"account"}"#
            )
        );
        // A known-answer check of the chaining itself.
        let mut hasher = Sha256::new();
        hasher.update(GENESIS);
        hasher.update(text.as_bytes());
        let expected: Hash = hasher.finalize().into();
        assert_eq!(fields(&payload).hash(&GENESIS), expected);
    }

    #[test]
    fn every_column_that_matters_changes_the_hash() {
        let payload = json!({"amount": 500});
        let base = fields(&payload);
        let original = base.hash(&GENESIS);
        let other_payload = json!({"amount": 501});
        let variants = [
            ChainedFields {
                payload: &other_payload,
                ..base
            },
            ChainedFields {
                record_type: "money_withdrawn",
                ..base
            },
            ChainedFields {
                sequence: Some(4),
                ..base
            },
            ChainedFields {
                sequence: None,
                ..base
            },
            ChainedFields {
                position: 4,
                ..base
            },
            ChainedFields {
                stream_id: Uuid::from_u128(9),
                ..base
            },
            ChainedFields {
                event_id: Uuid::from_u128(9),
                ..base
            },
            ChainedFields {
                kafka_offset: 43,
                ..base
            },
            ChainedFields {
                occurred_at: base.occurred_at + chrono::Duration::microseconds(1),
                ..base
            },
        ];
        for variant in variants {
            assert_ne!(variant.hash(&GENESIS), original, "{variant:?}");
        }
        assert_ne!(
            base.hash(&[1; 32]),
            original,
            "the previous hash is chained in"
        );
    }

    #[test]
    fn timestamps_are_cut_to_microseconds() {
        let at = Utc.timestamp_opt(1_700_000_000, 123_456_789).unwrap();
        assert_eq!(timestamp(to_micros(at)), "2023-11-14T22:13:20.123456Z");
        assert_eq!(to_micros(at).timestamp_subsec_nanos(), 123_456_000);
    }

    #[test]
    fn hex_and_hash_bytes() {
        assert_eq!(to_hex(&[0x00, 0xab, 0x0f, 0xff]), "00ab0fff");
        assert_eq!(hash_from_bytes(&[7; 32]), Some([7; 32]));
        assert_eq!(hash_from_bytes(&[7; 31]), None);
    }
}
