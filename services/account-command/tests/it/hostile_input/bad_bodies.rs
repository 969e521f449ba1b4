//! Bodies broken in one way each: values no field accepts, and JSON that is
//! not the object a route expects.

use eventbank_testkit::hostile::bad_id;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::route::{Route, account};

/// Values no field accepts: not integers, not in range, wrong JSON types.
fn bad_amount() -> impl Strategy<Value = Value> {
    prop_oneof![
        (i64::MIN..=0).prop_map(Value::from),
        (0.01f64..1e30).prop_map(Value::from),
        Just(json!(1.5)),
        Just(json!(-0.0)),
        // Above i64::MAX: 2^63 and 2^64 as literal JSON numbers.
        Just(Value::from(9_223_372_036_854_775_808_u64)),
        Just(Value::from(u64::MAX)),
        any::<String>().prop_map(Value::from),
        Just(json!("500")),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
        Just(json!([500])),
        Just(json!({"value": 500})),
    ]
}

fn bad_holder() -> impl Strategy<Value = Value> {
    let control = prop_oneof![0u32..0x20, 0x7fu32..0xa0].prop_map(|c| char::from_u32(c).unwrap());
    prop_oneof![
        Just(json!("")),
        "[ \t\n]{1,10}".prop_map(Value::from),
        "\\PC{201,260}".prop_map(Value::from),
        ("\\PC{0,20}", control, "\\PC{0,20}")
            .prop_map(|(a, c, b)| Value::from(format!("x{a}{c}{b}x"))),
        any::<i64>().prop_map(Value::from),
        Just(Value::Null),
        Just(json!(["Ann"])),
    ]
}

fn bad_currency() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[a-z]{3}".prop_map(Value::from),
        "[A-Z]{0,2}".prop_map(Value::from),
        "[A-Z]{4,10}".prop_map(Value::from),
        "\\PC{1,3}"
            .prop_filter("not three uppercase letters", |s: &String| {
                !(s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()))
            })
            .prop_map(Value::from),
        Just(json!(978)),
        Just(Value::Null),
    ]
}

fn bad_field(route: Route, field: &'static str) -> BoxedStrategy<Value> {
    match (route, field) {
        (_, "amount") => bad_amount().boxed(),
        (_, "holder") => bad_holder().boxed(),
        (_, "currency") => bad_currency().boxed(),
        (_, "from" | "to") => prop_oneof![
            bad_id().prop_map(Value::from),
            Just(json!(42)),
            Just(Value::Null),
        ]
        .boxed(),
        _ => Just(Value::Null).boxed(),
    }
}

/// A JSON body for a route, broken in one way.
pub(super) fn broken_body(route: Route) -> BoxedStrategy<Vec<u8>> {
    let valid = route.valid_body();
    let fields = route.fields();
    let mut options: Vec<BoxedStrategy<Vec<u8>>> = vec![
        // Cannot be JSON: no JSON text starts with `}`.
        any::<String>()
            .prop_map(|s| format!("}}{s}").into_bytes())
            .boxed(),
        // Not UTF-8.
        proptest::collection::vec(any::<u8>(), 0..200)
            .prop_map(|mut bytes| {
                bytes.insert(0, 0xff);
                bytes
            })
            .boxed(),
        // JSON, but not an object.
        prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            any::<String>().prop_map(|s| Value::from(s).to_string()),
            Just("null".to_owned()),
            Just("[]".to_owned()),
            Just(format!("[{valid}]")),
        ]
        .prop_map(String::into_bytes)
        .boxed(),
        // Trailing data after a valid object.
        "[ -~]{1,20}"
            .prop_filter("not only whitespace", |s: &String| !s.trim().is_empty())
            .prop_map({
                let valid = valid.clone();
                move |tail| format!("{valid}{tail}").into_bytes()
            })
            .boxed(),
        // A field the endpoint does not know.
        "[a-z_]{1,20}"
            .prop_filter("not a known field", move |name: &String| {
                !fields.contains(&name.as_str())
            })
            .prop_map({
                let valid = valid.clone();
                move |name| {
                    let mut object = valid.as_object().cloned().unwrap_or_default();
                    object.insert(name, json!(1));
                    Value::Object(object).to_string().into_bytes()
                }
            })
            .boxed(),
    ];
    if let Some(first) = fields.first() {
        // The same field twice.
        let text = valid.to_string();
        let inner = text.trim_start_matches('{').to_owned();
        options.push(Just(format!("{{\"{first}\":{},{inner}", valid[first]).into_bytes()).boxed());
    }
    for &field in fields {
        // A required field missing.
        let mut without = valid.as_object().cloned().unwrap_or_default();
        without.remove(field);
        options.push(Just(Value::Object(without).to_string().into_bytes()).boxed());
        // A field of the wrong type or out of range.
        let valid = valid.clone();
        options.push(
            bad_field(route, field)
                .prop_map(move |bad| {
                    let mut object = valid.as_object().cloned().unwrap_or_default();
                    object.insert(field.to_owned(), bad);
                    Value::Object(object).to_string().into_bytes()
                })
                .boxed(),
        );
    }
    if matches!(route, Route::Transfer) {
        let same = account();
        options.push(
            Just(
                json!({"from": same, "to": same, "amount": 500})
                    .to_string()
                    .into_bytes(),
            )
            .boxed(),
        );
    }
    proptest::strategy::Union::new(options).boxed()
}
