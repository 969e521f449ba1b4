//! The service starts on port 0 against the real broker, answers its ops
//! endpoints (`/readyz` ready once both loops run) and stops cleanly on cancel.

use eventbank_runtime::Service;
use eventbank_testkit::ops::check_ops_endpoints;
use eventbank_testkit::{Isolation, TestEnv, local_http};
use transfer_saga::{App, Settings};

#[tokio::test(flavor = "multi_thread")]
async fn serves_ops_endpoints_and_stops_on_shutdown() {
    let isolation = Isolation::new("saga-ops");
    let settings = Settings {
        instance: "ops".to_owned(),
        http: local_http(),
        kafka: TestEnv::get().kafka_settings(&isolation.topic_prefix()),
        auth: eventbank_testkit::auth::settings(),
        ..Settings::default()
    };
    let app = App::build(settings).await.expect("build");
    check_ops_endpoints(app).await;
}

/// Auth is on by default: a service given no token refuses to start, and
/// says how to give it one (before it connects to anything).
#[tokio::test]
async fn refuses_to_start_without_a_token() {
    let settings = Settings {
        http: local_http(),
        ..Settings::default()
    };
    let err = App::build(settings)
        .await
        .expect_err("no token")
        .to_string();
    assert!(err.contains("no token is configured"), "{err}");
    assert!(err.contains("EVENTBANK_AUTH__TOKENS"), "{err}");
}
