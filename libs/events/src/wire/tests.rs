//! Unit tests of the wire format: the upcaster chain, version checks, keys.

use serde::{Deserialize, Serialize};

use super::*;

/// A record at version 3 whose field was `who` in v1 and `name` since v2,
/// and which gained `greeting` (default `"hello"`) in v3.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Greeting {
    schema_version: u32,
    name: String,
    greeting: String,
}

impl WireRecord for Greeting {
    const KIND: &'static str = "greeting";
    const CURRENT_VERSION: u32 = 3;

    fn upcasters() -> &'static [Upcaster] {
        &[
            Upcaster {
                from_version: 2,
                upcast: |map| {
                    map.insert("greeting".into(), "hello".into());
                    Ok(())
                },
            },
            Upcaster {
                from_version: 1,
                upcast: |map| {
                    let who = map.remove("who").ok_or("missing field `who`")?;
                    map.insert("name".into(), who);
                    Ok(())
                },
            },
        ]
    }

    fn key(&self) -> Uuid {
        Uuid::nil()
    }
}

#[test]
fn upcasts_through_the_whole_chain_in_version_order() {
    let v1 = br#"{"schema_version":1,"who":"Ann"}"#;
    let decoded: Greeting = decode(v1).unwrap();
    assert_eq!(
        decoded,
        Greeting {
            schema_version: 3,
            name: "Ann".into(),
            greeting: "hello".into()
        }
    );
    let v2 = br#"{"schema_version":2,"name":"Bo"}"#;
    assert_eq!(decode::<Greeting>(v2).unwrap().name, "Bo");
    check_upcaster_chain::<Greeting>().unwrap();
}

#[test]
fn upcaster_failure_names_the_version_and_reason() {
    let err = decode::<Greeting>(br#"{"schema_version":1,"name":"Ann"}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "greeting: cannot upcast from schema_version 1: missing field `who`"
    );
}

#[test]
fn encode_labels_with_the_current_version() {
    let record = Greeting {
        schema_version: 0,
        name: "Ann".into(),
        greeting: "hi".into(),
    };
    let json: Value = serde_json::from_slice(&encode(&record)).unwrap();
    assert_eq!(json[SCHEMA_VERSION_FIELD], 3);
}

#[test]
fn keys_are_hyphenated_uuid_text() {
    let key = encode_key(Uuid::from_u128(0xabc));
    assert_eq!(key, b"00000000-0000-0000-0000-000000000abc");
}

#[test]
fn schema_version_must_be_a_positive_u32() {
    for (json, code) in [
        (&br#"{"name":"x"}"#[..], "missing_schema_version"),
        (br#"{"schema_version":0}"#, "invalid_schema_version"),
        (br#"{"schema_version":"1"}"#, "invalid_schema_version"),
        (br#"{"schema_version":1.0}"#, "invalid_schema_version"),
        (
            br#"{"schema_version":4294967296}"#,
            "invalid_schema_version",
        ),
        (br#"{"schema_version":4}"#, "unsupported_version"),
        (br#"[1]"#, "not_an_object"),
    ] {
        let err = decode::<Greeting>(json).unwrap_err();
        assert_eq!(err.code(), code, "{err}");
        assert_eq!(err.kind(), "greeting");
    }
}

#[test]
fn gaps_in_the_chain_are_reported() {
    #[derive(Debug, Serialize, Deserialize)]
    struct Gappy {
        schema_version: u32,
    }
    impl WireRecord for Gappy {
        const KIND: &'static str = "gappy";
        const CURRENT_VERSION: u32 = 3;
        fn upcasters() -> &'static [Upcaster] {
            &[Upcaster {
                from_version: 2,
                upcast: |_| Ok(()),
            }]
        }
        fn key(&self) -> Uuid {
            Uuid::nil()
        }
    }
    assert!(check_upcaster_chain::<Gappy>().is_err());
    let err = decode::<Gappy>(br#"{"schema_version":1}"#).unwrap_err();
    assert!(
        err.to_string().contains("no upcaster is registered"),
        "{err}"
    );
}
