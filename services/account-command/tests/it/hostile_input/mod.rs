//! Hostile HTTP input, generated: 10,000 requests that are each wrong in at
//! least one way (broken or oversize bodies, wrong types, out-of-range and
//! fractional amounts, names with control characters, bad currencies, ids
//! that are not UUIDs, path traversal, odd content types and methods, bad
//! idempotency keys) against the real API. Every answer must be a 4xx JSON
//! error with a code — never a 5xx, never a dropped connection — and nothing
//! may reach `account-commands`.

mod bad_bodies;
mod requests;
mod route;

use crate::common;

use std::time::Duration;

use eventbank_events::TopicKind;
use eventbank_runtime::kafka::read_partition;
use eventbank_testkit::Isolation;
use eventbank_testkit::hostile::{self, Request};

use requests::hostile;
use route::{MAX_BODY, Route};

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
    let client = eventbank_testkit::http::client_builder()
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
        content_type: Some(content_type.to_owned()),
        ..Route::Open.valid_request()
    };
    for round in 0..300 {
        let requests = [
            Request {
                body: oversize.clone(),
                ..Route::Deposit.valid_request()
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
