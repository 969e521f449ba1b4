//! The generator of hostile requests: every way a request can be wrong,
//! weighted towards broken bodies.

use eventbank_testkit::hostile::{Request, bad_id, encode, other_method, unknown_path};
use proptest::prelude::*;
use reqwest::Method;

use super::bad_bodies::broken_body;
use super::route::{MAX_BODY, Route, body_route, route};

pub(super) fn hostile() -> impl Strategy<Value = Request> {
    let bad_bodies = body_route().prop_flat_map(|route| {
        broken_body(route).prop_map(move |body| Request {
            body,
            ..route.valid_request()
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
            content_type,
            ..route.valid_request()
        });
    let oversize = (body_route(), MAX_BODY + 1..4 * MAX_BODY).prop_map(|(route, size)| {
        let mut request = route.valid_request();
        request.body.resize(size, b' ');
        request
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
            path: route.path(&encode(&id)),
            ..route.valid_request()
        });
    let bad_command_ids =
        bad_id().prop_map(|id| Request::get(format!("/commands/{}", encode(&id))));
    let unknown_paths = unknown_path(&["/accounts", "/transfers", "/commands/"])
        .prop_map(|path| Request::json(Method::POST, path, b"{}".to_vec()));
    let wrong_methods = (route(), other_method(Method::POST)).prop_map(|(route, method)| Request {
        method,
        ..route.valid_request()
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
            idempotency_key: Some(key),
            ..route.valid_request()
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
