//! The ops contract: `/healthz`, `/readyz`, `/metrics`, JSON 404s, clean stop.

use crate::common;

use audit_log::App;
use eventbank_runtime::Service;
use eventbank_testkit::Isolation;
use eventbank_testkit::ops::check_ops_endpoints;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_ops_endpoints_and_stops_on_shutdown() {
    let isolation = Isolation::new("audit-ops");
    let app = App::build(common::settings(&isolation, "ops"))
        .await
        .expect("build");
    check_ops_endpoints(app).await;
    common::drop_schema(&isolation).await;
}
