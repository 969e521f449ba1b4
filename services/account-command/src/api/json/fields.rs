//! The fields of a JSON object body, checked one by one: duplicates and
//! unknown names refused up front, each field's error named after it.

use eventbank_runtime::http::ApiError;
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

/// The top-level fields of a body that passed the syntax and field-name checks.
#[derive(Debug)]
pub struct Fields {
    entries: Map<String, Value>,
}

impl Fields {
    /// Parses `bytes` as one JSON object whose keys are all in `allowed`.
    pub fn parse(bytes: &[u8], allowed: &[&str]) -> Result<Self, ApiError> {
        let entries = match serde_json::from_slice::<Object>(bytes) {
            Ok(Object::Unique(entries)) => entries,
            Ok(Object::Duplicate(field)) => {
                return Err(ApiError::bad_request(
                    "duplicate_field",
                    format!("field `{}` appears more than once", excerpt(&field, 64)),
                ));
            }
            Err(err) if bytes.iter().all(u8::is_ascii_whitespace) => {
                return Err(ApiError::bad_request(
                    "invalid_json",
                    format!("the request body is empty; expected a JSON object ({err})"),
                ));
            }
            Err(err) => {
                return Err(ApiError::bad_request(
                    "invalid_json",
                    format!("the request body is not a JSON object: {err}"),
                ));
            }
        };
        let unknown: Vec<String> = entries
            .keys()
            .filter(|key| !allowed.contains(&key.as_str()))
            .map(|key| format!("`{}`", excerpt(key, 64)))
            .collect();
        if !unknown.is_empty() {
            let expected = if allowed.is_empty() {
                "this endpoint takes no fields".to_owned()
            } else {
                let names: Vec<String> = allowed.iter().map(|name| format!("`{name}`")).collect();
                format!("expected {}", names.join(", "))
            };
            let noun = if unknown.len() == 1 {
                "unknown field"
            } else {
                "unknown fields"
            };
            return Err(ApiError::bad_request(
                "unknown_field",
                format!("{noun} {}; {expected}", unknown.join(", ")),
            ));
        }
        Ok(Self { entries })
    }

    /// Takes the required field `name`: absent → `missing_<name>`; `null`, the
    /// wrong type or an invalid value → `invalid_code`, with the reason.
    pub fn required<T: DeserializeOwned>(
        &mut self,
        name: &str,
        invalid_code: &str,
    ) -> Result<T, ApiError> {
        match self.entries.remove(name) {
            None => Err(ApiError::bad_request(
                format!("missing_{name}"),
                format!("field `{name}` is required"),
            )),
            Some(Value::Null) => Err(ApiError::bad_request(
                invalid_code,
                format!("field `{name}` must not be null"),
            )),
            Some(value) => serde_json::from_value(value).map_err(|err| {
                ApiError::bad_request(invalid_code, format!("field `{name}`: {err}"))
            }),
        }
    }
}

/// A JSON object read with duplicate keys detected (serde_json's `Map` keeps
/// the last silently). A duplicate is reported in-band rather than as a serde
/// error, so it gets its own code without matching on error text.
enum Object {
    Unique(Map<String, Value>),
    Duplicate(String),
}

impl<'de> Deserialize<'de> for Object {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;

        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = Object;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Object, A::Error> {
                let mut entries = Map::new();
                let mut duplicate = None;
                while let Some(key) = map.next_key::<String>()? {
                    if entries.contains_key(&key) {
                        map.next_value::<IgnoredAny>()?;
                        duplicate.get_or_insert(key);
                    } else {
                        let value = map.next_value::<Value>()?;
                        entries.insert(key, value);
                    }
                }
                Ok(match duplicate {
                    Some(key) => Object::Duplicate(key),
                    None => Object::Unique(entries),
                })
            }
        }

        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// At most `max_chars` characters of user input, for error messages.
pub fn excerpt(input: &str, max_chars: usize) -> String {
    match input.char_indices().nth(max_chars) {
        None => input.to_owned(),
        Some((cut, _)) => format!("{}…", &input[..cut]),
    }
}
