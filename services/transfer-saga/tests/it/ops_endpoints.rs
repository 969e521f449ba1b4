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
        ..Settings::default()
    };
    let app = App::build(settings).await.expect("build");
    check_ops_endpoints(app).await;
}
