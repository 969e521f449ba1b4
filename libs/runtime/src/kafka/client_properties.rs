//! Raw librdkafka properties (`kafka.client`) as they arrive from the
//! settings file and the environment.
//!
//! librdkafka names its properties with dots (`linger.ms`) and takes every
//! value as a string. The configuration layers do not see them that way: a
//! dotted key from the environment (`EVENTBANK_KAFKA__CLIENT__linger.ms`)
//! becomes nested maps, and `…__LINGER_MS=20` arrives as the integer 20 under
//! `linger_ms`. Both used to be refused. Here nested maps are joined back
//! with dots, numbers and booleans become their text, and underscores become
//! dots — no librdkafka property that can be set from configuration has an
//! underscore in its name except `log_level`, kept as it is.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

/// Properties whose own name has an underscore.
const UNDERSCORED: &[&str] = &["log_level"];

#[derive(Deserialize)]
#[serde(untagged)]
enum Value {
    Text(String),
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Nested(BTreeMap<String, Value>),
}

/// `deserialize_with` for `kafka.client`.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let raw = BTreeMap::<String, Value>::deserialize(deserializer)?;
    let mut properties = BTreeMap::new();
    flatten("", raw, &mut properties);
    Ok(properties)
}

fn flatten(prefix: &str, raw: BTreeMap<String, Value>, out: &mut BTreeMap<String, String>) {
    for (key, value) in raw {
        let key = if prefix.is_empty() {
            property_name(&key)
        } else {
            format!("{prefix}.{}", property_name(&key))
        };
        let text = match value {
            Value::Nested(inner) => {
                flatten(&key, inner, out);
                continue;
            }
            Value::Text(text) => text,
            Value::Bool(value) => value.to_string(),
            Value::Int(value) => value.to_string(),
            Value::UInt(value) => value.to_string(),
            Value::Float(value) => value.to_string(),
        };
        out.insert(key, text);
    }
}

fn property_name(key: &str) -> String {
    let key = key.to_ascii_lowercase();
    if UNDERSCORED.contains(&key.as_str()) {
        key
    } else {
        key.replace('_', ".")
    }
}

#[cfg(test)]
// figment's Jail closures return its large error type.
#[allow(clippy::result_large_err)]
mod tests {
    use serde::{Deserialize, Serialize};

    use crate::config::{ConfigError, Validate, load};
    use crate::kafka::KafkaSettings;

    #[derive(Debug, Default, Serialize, Deserialize)]
    #[serde(default)]
    struct Sample {
        kafka: KafkaSettings,
    }

    impl Validate for Sample {
        fn validate(&self) -> Result<(), ConfigError> {
            self.kafka.validate()
        }
    }

    #[test]
    fn client_properties_from_env_and_file_reach_librdkafka_names_as_text() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "svc.toml",
                "[kafka.client]\n\"queue.buffering.max.messages\" = 1000\nlog_level = 6\n",
            )?;
            jail.set_env(crate::config::CONFIG_FILE_ENV, "svc.toml");
            jail.set_env("EVENTBANK_KAFKA__CLIENT__LINGER_MS", "20");
            jail.set_env("EVENTBANK_KAFKA__CLIENT__fetch.wait.max.ms", "50");
            jail.set_env("EVENTBANK_KAFKA__CLIENT__ENABLE_IDEMPOTENCE", "true");
            let loaded: Sample = load().map_err(|err| err.to_string())?;
            let client = &loaded.kafka.client;
            assert_eq!(client.get("linger.ms").map(String::as_str), Some("20"));
            assert_eq!(
                client.get("fetch.wait.max.ms").map(String::as_str),
                Some("50")
            );
            assert_eq!(
                client.get("enable.idempotence").map(String::as_str),
                Some("true")
            );
            assert_eq!(
                client
                    .get("queue.buffering.max.messages")
                    .map(String::as_str),
                Some("1000")
            );
            assert_eq!(client.get("log_level").map(String::as_str), Some("6"));
            assert_eq!(client.len(), 5, "{client:?}");
            Ok(())
        });
    }
}
