//! Hostile HTTP input, generated: 10,000 requests that are each wrong in at
//! least one way (broken or oversize bodies, wrong types, out-of-range and
//! fractional amounts, names with control characters, bad currencies, ids
//! that are not UUIDs, path traversal, odd content types and methods, bad
//! idempotency keys) against the real API. Every answer must be a 4xx JSON
//! error with a code — never a 5xx, never a dropped connection — and nothing
//! may reach `account-commands`.

use crate::common;

use std::time::Duration;

use eventbank_events::TopicKind;
use eventbank_runtime::kafka::read_partition;
use eventbank_testkit::Isolation;
use eventbank_testkit::hostile::{self, Request, bad_id, encode, other_method, unknown_path};
use proptest::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

/// The API's default `api.max_body_bytes`.
const MAX_BODY: usize = 16 * 1024;

#[derive(Debug, Clone, Copy)]
enum Route {
    Open,
    Deposit,
    Withdraw,
    Close,
    Transfer,
}

impl Route {
    fn path(self, account: &str) -> String {
        match self {
            Self::Open => "/accounts".to_owned(),
            Self::Deposit => format!("/accounts/{account}/deposits"),
            Self::Withdraw => format!("/accounts/{account}/withdrawals"),
            Self::Close => format!("/accounts/{account}/close"),
            Self::Transfer => "/transfers".to_owned(),
        }
    }

    /// A body this route would accept.
    fn valid_body(self) -> Value {
        match self {
            Self::Open => json!({"holder": "Ann", "currency": "EUR"}),
            Self::Deposit | Self::Withdraw => json!({"amount": 500}),
            Self::Close => json!({}),
            Self::Transfer => json!({
                "from": uuid::Uuid::new_v4().to_string(),
                "to": uuid::Uuid::new_v4().to_string(),
                "amount": 500
            }),
        }
    }

    fn fields(self) -> &'static [&'static str] {
        match self {
            Self::Open => &["holder", "currency"],
            Self::Deposit | Self::Withdraw => &["amount"],
            Self::Close => &[],
            Self::Transfer => &["from", "to", "amount"],
        }
    }
}

fn route() -> impl Strategy<Value = Route> {
    prop_oneof![
        Just(Route::Open),
        Just(Route::Deposit),
        Just(Route::Withdraw),
        Just(Route::Close),
        Just(Route::Transfer),
    ]
}

/// Routes that take a JSON object with required fields.
fn body_route() -> impl Strategy<Value = Route> {
    prop_oneof![
        Just(Route::Open),
        Just(Route::Deposit),
        Just(Route::Withdraw),
        Just(Route::Transfer),
    ]
}

fn account() -> String {
    uuid::Uuid::new_v4().to_string()
}

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
fn broken_body(route: Route) -> BoxedStrategy<Vec<u8>> {
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

fn json_type() -> Option<String> {
    Some("application/json".to_owned())
}

fn hostile() -> impl Strategy<Value = Request> {
    let bad_bodies = body_route().prop_flat_map(|route| {
        broken_body(route).prop_map(move |body| Request {
            method: Method::POST,
            path: route.path(&account()),
            content_type: json_type(),
            idempotency_key: None,
            body,
        })
    });
    let bad_content_types = (
        route(),
        prop_oneof![
            Just(None),
            Just(Some("text/plain".to_owned())),
            Just(Some("application/xml".to_owned())),
            Just(Some("application/x-www-form-urlencoded".to_owned())),
            Just(Some("multipart/form-data; boundary=x".to_owned())),
            Just(Some("application/jsonx".to_owned())),
            Just(Some("json".to_owned())),
            "[a-z]{1,10}/[a-z]{1,10}"
                .prop_filter("not JSON", |t: &String| !t.contains("json"))
                .prop_map(Some),
        ],
    )
        .prop_filter("close takes an empty body of any type", |(route, _)| {
            !matches!(route, Route::Close)
        })
        .prop_map(|(route, content_type)| Request {
            method: Method::POST,
            path: route.path(&account()),
            content_type,
            idempotency_key: None,
            body: route.valid_body().to_string().into_bytes(),
        });
    let oversize = (body_route(), MAX_BODY + 1..4 * MAX_BODY).prop_map(|(route, size)| {
        let mut body = route.valid_body().to_string().into_bytes();
        body.resize(size, b' ');
        Request {
            method: Method::POST,
            path: route.path(&account()),
            content_type: json_type(),
            idempotency_key: None,
            body,
        }
    });
    let bad_paths = (
        prop_oneof![
            Just(Route::Deposit),
            Just(Route::Withdraw),
            Just(Route::Close)
        ],
        bad_id(),
    )
        .prop_map(|(route, id)| Request {
            method: Method::POST,
            path: route.path(&encode(&id)),
            content_type: json_type(),
            idempotency_key: None,
            body: route.valid_body().to_string().into_bytes(),
        });
    let bad_command_ids =
        bad_id().prop_map(|id| Request::get(format!("/commands/{}", encode(&id))));
    let unknown_paths =
        unknown_path(&["/accounts", "/transfers", "/commands/"]).prop_map(|path| Request {
            method: Method::POST,
            path,
            content_type: json_type(),
            idempotency_key: None,
            body: b"{}".to_vec(),
        });
    let wrong_methods = (route(), other_method(Method::POST)).prop_map(|(route, method)| Request {
        method,
        path: route.path(&account()),
        content_type: json_type(),
        idempotency_key: None,
        body: route.valid_body().to_string().into_bytes(),
    });
    let bad_keys = (
        body_route(),
        prop_oneof![
            "[ -~]{201,8000}".prop_map(String::into_bytes),
            proptest::collection::vec(0x80u8..=0xff, 1..50),
            Just(b"a\tb".to_vec()),
        ],
    )
        .prop_map(|(route, key)| Request {
            method: Method::POST,
            path: route.path(&account()),
            content_type: json_type(),
            idempotency_key: Some(key),
            body: route.valid_body().to_string().into_bytes(),
        });
    prop_oneof![
        6 => bad_bodies,
        1 => bad_content_types,
        1 => oversize,
        1 => bad_paths,
        1 => bad_command_ids,
        1 => unknown_paths,
        1 => wrong_methods,
        1 => bad_keys,
    ]
}

#[test]
fn every_hostile_request_gets_a_4xx_json_error_and_nothing_reaches_kafka() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let isolation = Isolation::new("hostile");
    // The API alone: anything it let through would sit in account-commands.
    let settings = common::settings(&isolation, true, false, "hostile-0");
    let kafka = settings.kafka.clone();
    let service = runtime.block_on(common::Running::start(settings));
    let base = service.base_url();
    hostile::run(&runtime, &base, hostile());

    let topic = kafka.topics().name(TopicKind::AccountCommands);
    for partition in 0..kafka.topics.partitions {
        let records = read_partition(&kafka, &topic, partition, Duration::from_secs(30))
            .expect("read account-commands");
        assert!(
            records.is_empty(),
            "{} hostile request(s) reached {topic}[{partition}]: {:?}",
            records.len(),
            records.first()
        );
    }
    runtime.block_on(service.stop());
}

/// The interleaving behind an earlier flake of the test above: an oversize
/// body is refused before it is read, hyper then closes the connection, and
/// a client that had put that connection back in its pool sent its next
/// request into a closing socket ("no answer"). A 413 now says
/// `Connection: close`, and a wrong content type still reads the body, so
/// every request of this alternating sequence gets its answer.
#[test]
fn a_refused_body_never_costs_the_next_request_its_answer() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let isolation = Isolation::new("hostile-reuse");
    let settings = common::settings(&isolation, true, false, "hostile-reuse-0");
    let service = runtime.block_on(common::Running::start(settings));
    let base = service.base_url();
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let oversize = {
        let mut body = Route::Open.valid_body().to_string().into_bytes();
        body.resize(3 * MAX_BODY, b' ');
        body
    };
    let wrong_type = |content_type: &str| Request {
        method: Method::POST,
        path: Route::Open.path(""),
        content_type: Some(content_type.to_owned()),
        idempotency_key: None,
        body: Route::Open.valid_body().to_string().into_bytes(),
    };
    for round in 0..300 {
        let requests = [
            Request {
                method: Method::POST,
                path: Route::Deposit.path(&account()),
                content_type: json_type(),
                idempotency_key: None,
                body: oversize.clone(),
            },
            wrong_type("application/xml"),
            Request {
                body: oversize.clone(),
                ..wrong_type("text/plain")
            },
            wrong_type("text/plain"),
        ];
        for request in &requests {
            if let Err(problem) =
                runtime.block_on(hostile::expect_json_4xx(&client, &base, request))
            {
                panic!(
                    "round {round}, {} {}: {problem}",
                    request.method, request.path
                );
            }
        }
    }
    runtime.block_on(service.stop());
}
