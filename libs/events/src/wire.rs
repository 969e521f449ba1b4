//! The JSON wire format and its versioning.
//!
//! Every record is a JSON object with a top-level `schema_version`. A record
//! type declares the version its Rust shape corresponds to
//! ([`WireRecord::CURRENT_VERSION`]) and how to lift each older version one step
//! ([`WireRecord::upcasters`]). [`decode`] then reads bytes of any supported
//! version:
//!
//! 1. parse the JSON (syntax errors keep serde's line and column);
//! 2. read `schema_version` — a record without one is refused, not assumed to
//!    be version 1: every record this system ever wrote carries it, so its
//!    absence means the bytes are not ours;
//! 3. refuse a version newer than this build knows — guessing at a future
//!    shape could drop fields that matter, so the record goes to the
//!    dead-letter topic until the consumer is upgraded;
//! 4. run the upcasters from the record's version up to the current one;
//! 5. check the record's `type` tag against the tags this build knows, so an
//!    unknown type is reported as such;
//! 6. deserialize, which also validates every field (ids, amounts, currencies).
//!
//! Consequences for operating the system: **deploy readers before writers.** A
//! consumer refuses records newer than it understands, so a schema change rolls
//! out to every consumer of a topic before any producer starts writing it. And
//! since events are kept forever, an upcaster is never removed.
//!
//! Records are strict: unknown fields are errors. A field added without a
//! version bump is a bug this catches at the first consumer, not in production
//! data months later.

mod decode_error;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use uuid::Uuid;

pub use decode_error::DecodeError;

/// Field every record carries at its top level.
pub const SCHEMA_VERSION_FIELD: &str = "schema_version";

/// A record that travels over Kafka as versioned JSON.
pub trait WireRecord: Serialize + DeserializeOwned {
    /// Short name used in errors, fixture directories and logs, e.g.
    /// `"account-command"`.
    const KIND: &'static str;

    /// The version this Rust type's shape serializes as. Starts at 1; bump it
    /// (and add an upcaster from the previous version) on any change to the
    /// JSON shape.
    const CURRENT_VERSION: u32;

    /// Where the record's type tag lives, so an unknown tag is reported as an
    /// unknown record type rather than a generic deserialization error.
    const TYPE_TAG: Option<TypeTag> = None;

    /// One upcaster per version from 1 to `CURRENT_VERSION - 1`. A record at
    /// version `n` is lifted by the upcaster whose `from_version` is `n`, then
    /// `n + 1`, and so on.
    fn upcasters() -> &'static [Upcaster] {
        &[]
    }

    /// The record's Kafka key (see [`encode_key`]): the id whose partition the
    /// record must land on.
    fn key(&self) -> Uuid;

    /// The record's own `schema_version` field, where it has one. [`encode`]
    /// writes a record whose field already says [`Self::CURRENT_VERSION`]
    /// as is, and relabels any other through a JSON value.
    fn written_version(&self) -> Option<u32> {
        None
    }
}

/// Location of a record's type tag and the tags this build knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeTag {
    /// Object keys from the record's root to the tag, e.g. `["command", "type"]`.
    pub path: &'static [&'static str],
    /// Every tag value this build can decode.
    pub known: &'static [&'static str],
}

/// Lifts a record's JSON from `from_version` to `from_version + 1`.
///
/// It edits the top-level object in place (rename a field, fill a default,
/// split a variant); [`decode`] updates `schema_version` after each step.
#[derive(Debug, Clone, Copy)]
pub struct Upcaster {
    /// The version this upcaster reads.
    pub from_version: u32,
    /// The transformation; an `Err` explains why this record cannot be lifted.
    pub upcast: fn(&mut Map<String, Value>) -> Result<(), String>,
}

/// Serializes a record as compact JSON labelled with its current version.
///
/// The label is taken from [`WireRecord::CURRENT_VERSION`], not from the
/// value's `schema_version` field: the Rust shape *is* the current version, so
/// that is the only truthful label, whatever a caller put in the field.
///
/// The order of keys in the output is not part of the contract. Anything that
/// hashes records (the audit chain) must hash the bytes as stored or define
/// its own canonical form.
pub fn encode<T: WireRecord>(record: &T) -> Vec<u8> {
    if record.written_version() == Some(T::CURRENT_VERSION) {
        // Already labelled truthfully: no JSON value tree in between.
        return serde_json::to_vec(record).expect("wire records always serialize");
    }
    // Cannot fail: records have string keys only and no fallible Serialize impls
    // (the golden tests encode every variant).
    let mut value = serde_json::to_value(record).expect("wire records always serialize");
    if let Value::Object(map) = &mut value {
        map.insert(
            SCHEMA_VERSION_FIELD.to_owned(),
            Value::from(T::CURRENT_VERSION),
        );
    }
    serde_json::to_vec(&value).expect("a JSON value always serializes")
}

/// Decodes a record of any supported version; see the [module docs](self).
///
/// A record already at the current version is read straight from its bytes;
/// everything else, every error included, takes [`decode_any_version`], so
/// what is accepted and how a refusal is worded is decided in one place.
pub fn decode<T: WireRecord>(bytes: &[u8]) -> Result<T, DecodeError> {
    match decode_current(bytes) {
        Some(record) => Ok(record),
        None => decode_any_version(bytes),
    }
}

/// The common case without an intermediate [`Value`] tree, whose maps cost
/// an allocation per field (a third of a consumer's CPU before this): an
/// object whose `schema_version` is the current one and that deserializes
/// as is. `None` for anything else, even valid records of older versions.
fn decode_current<T: WireRecord>(bytes: &[u8]) -> Option<T> {
    /// Reads only the version; every other field is skipped unparsed.
    #[derive(serde::Deserialize)]
    struct Version {
        schema_version: Option<u64>,
    }
    // Structs also deserialize from JSON arrays; the wire format is objects.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return None;
    }
    let Version { schema_version } = serde_json::from_slice(bytes).ok()?;
    if schema_version != Some(u64::from(T::CURRENT_VERSION)) {
        return None;
    }
    serde_json::from_slice(bytes).ok()
}

/// Decodes a record of any supported version through a JSON [`Value`]:
/// version check, upcasting, type tag check, then the record. [`decode`]
/// comes here for everything but a well-formed current record; public so a
/// test can hold the two paths to the same answers.
pub fn decode_any_version<T: WireRecord>(bytes: &[u8]) -> Result<T, DecodeError> {
    let kind = T::KIND;
    let value: Value =
        serde_json::from_slice(bytes).map_err(|error| DecodeError::InvalidJson { kind, error })?;
    let mut map = match value {
        Value::Object(map) => map,
        other => {
            return Err(DecodeError::NotAnObject {
                kind,
                found: json_type(&other),
            });
        }
    };

    let written_version = read_version(kind, &map)?;
    if written_version > T::CURRENT_VERSION {
        return Err(DecodeError::UnsupportedVersion {
            kind,
            found: written_version,
            supported: T::CURRENT_VERSION,
        });
    }
    for from_version in written_version..T::CURRENT_VERSION {
        let upcaster = T::upcasters()
            .iter()
            .find(|upcaster| upcaster.from_version == from_version)
            .ok_or_else(|| DecodeError::Upcast {
                kind,
                from_version,
                reason: "no upcaster is registered for this version".to_owned(),
            })?;
        (upcaster.upcast)(&mut map).map_err(|reason| DecodeError::Upcast {
            kind,
            from_version,
            reason,
        })?;
        map.insert(
            SCHEMA_VERSION_FIELD.to_owned(),
            Value::from(from_version + 1),
        );
    }

    if let Some(tag) = T::TYPE_TAG {
        check_type_tag(kind, &map, tag)?;
    }

    serde_json::from_value(Value::Object(map)).map_err(|error| DecodeError::InvalidRecord {
        kind,
        written_version,
        error,
    })
}

/// The Kafka key bytes for a record keyed by `id`: the canonical hyphenated
/// lowercase UUID text.
///
/// Text rather than the 16 raw bytes so keys are readable in every Kafka tool.
/// All producers must use this one encoding: the partitioner hashes the bytes,
/// and co-partitioning only holds if an account id is the same bytes on every
/// topic.
pub fn encode_key(id: impl Into<Uuid>) -> Vec<u8> {
    id.into().hyphenated().to_string().into_bytes()
}

/// Checks that a record type's upcasters cover every version from 1 to
/// `CURRENT_VERSION - 1` exactly once. Meant for tests.
pub fn check_upcaster_chain<T: WireRecord>() -> Result<(), String> {
    for from_version in 1..T::CURRENT_VERSION {
        let count = T::upcasters()
            .iter()
            .filter(|upcaster| upcaster.from_version == from_version)
            .count();
        if count != 1 {
            return Err(format!(
                "{}: {count} upcasters from version {from_version}, expected exactly 1",
                T::KIND
            ));
        }
    }
    match T::upcasters()
        .iter()
        .find(|upcaster| upcaster.from_version == 0 || upcaster.from_version >= T::CURRENT_VERSION)
    {
        Some(stray) => Err(format!(
            "{}: upcaster from version {} is outside 1..{}",
            T::KIND,
            stray.from_version,
            T::CURRENT_VERSION
        )),
        None => Ok(()),
    }
}

fn read_version(kind: &'static str, map: &Map<String, Value>) -> Result<u32, DecodeError> {
    let value = map
        .get(SCHEMA_VERSION_FIELD)
        .ok_or(DecodeError::MissingSchemaVersion { kind })?;
    value
        .as_u64()
        .and_then(|version| u32::try_from(version).ok())
        .filter(|version| *version > 0)
        .ok_or_else(|| DecodeError::InvalidSchemaVersion {
            kind,
            found: crate::text::excerpt(&value.to_string(), 40),
        })
}

fn check_type_tag(
    kind: &'static str,
    map: &Map<String, Value>,
    tag: TypeTag,
) -> Result<(), DecodeError> {
    let Some((last, parents)) = tag.path.split_last() else {
        return Ok(());
    };
    let mut object = map;
    for key in parents {
        match object.get(*key) {
            Some(Value::Object(inner)) => object = inner,
            // Missing or misshapen: deserialization reports it with serde's words.
            _ => return Ok(()),
        }
    }
    match object.get(*last) {
        Some(Value::String(found)) if !tag.known.contains(&found.as_str()) => {
            Err(DecodeError::UnknownType {
                kind,
                tag: crate::text::excerpt(found, 64),
                path: tag.path.join("."),
                known: tag.known.join(", "),
            })
        }
        _ => Ok(()),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;
