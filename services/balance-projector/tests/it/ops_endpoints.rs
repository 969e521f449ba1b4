//! The ops contract: `/healthz`, `/readyz`, `/metrics`, JSON 404s, clean stop.

use crate::common;

use balance_projector::App;
use eventbank_runtime::Service;
use eventbank_testkit::Isolation;
use eventbank_testkit::ops::check_ops_endpoints;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_endpoints_answer() {
    let isolation = Isolation::new("ops");
    let app = App::build(common::settings(&isolation))
        .await
        .expect("build");
    check_ops_endpoints(app).await;
}
