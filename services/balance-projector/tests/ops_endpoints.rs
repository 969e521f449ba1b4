//! The ops contract: `/healthz`, `/readyz`, `/metrics`, JSON 404s, clean stop.

use std::net::SocketAddr;

use balance_projector::{App, Settings};
use eventbank_runtime::Service;
use eventbank_runtime::http::HttpSettings;
use eventbank_testkit::ops::check_ops_endpoints;
use eventbank_testkit::{Isolation, TestEnv};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_endpoints_answer() {
    let isolation = Isolation::new("ops");
    let env = TestEnv::get();
    let mut settings = Settings {
        http: HttpSettings {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        },
        kafka: env.kafka_settings(&isolation.topic_prefix()),
        ..Settings::default()
    };
    settings.redis.url = env.redis_url.clone();
    settings.redis.key_prefix = isolation.redis_prefix();
    let app = App::build(settings).await.expect("build");
    let addr = app.http_addr().expect("bound");
    check_ops_endpoints(App::NAME, addr, app).await;
}
