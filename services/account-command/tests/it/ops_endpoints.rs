//! The service starts on port 0 against the real broker, answers its ops
//! endpoints (`/readyz` ready once the processor and the results listener
//! run) and stops cleanly on cancel.

use crate::common;

use account_command::App;
use eventbank_runtime::Service;
use eventbank_testkit::Isolation;
use eventbank_testkit::ops::check_ops_endpoints;

#[tokio::test(flavor = "multi_thread")]
async fn serves_ops_endpoints_and_stops_on_shutdown() {
    let isolation = Isolation::new("ops");
    let app = App::build(common::settings(&isolation, true, true, "ops"))
        .await
        .expect("build");
    check_ops_endpoints(app).await;
}
