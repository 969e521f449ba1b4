//! The service starts on port 0 against the real broker, answers its ops
//! endpoints (`/readyz` ready once both loops run) and stops cleanly on cancel.

use std::net::SocketAddr;

use eventbank_runtime::Service;
use eventbank_runtime::http::HttpSettings;
use eventbank_testkit::ops::check_ops_endpoints;
use eventbank_testkit::{Isolation, TestEnv};
use transfer_saga::{App, Settings};

#[tokio::test(flavor = "multi_thread")]
async fn serves_ops_endpoints_and_stops_on_shutdown() {
    let isolation = Isolation::new("saga-ops");
    let settings = Settings {
        instance: "ops".to_owned(),
        http: HttpSettings {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        },
        kafka: TestEnv::get().kafka_settings(&isolation.topic_prefix()),
        ..Settings::default()
    };
    let app = App::build(settings).await.expect("build");
    let addr = app.http_addr().expect("bound address");
    check_ops_endpoints(App::NAME, addr, app).await;
}
