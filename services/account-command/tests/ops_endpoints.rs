//! The service starts on port 0, answers its ops endpoints and stops on cancel.

use account_command::{App, Settings};
use eventbank_runtime::Service;
use eventbank_runtime::http::HttpSettings;

#[tokio::test]
async fn serves_ops_endpoints_and_stops_on_shutdown() {
    let settings = Settings {
        http: HttpSettings::on_port(0),
        ..Settings::default()
    };
    let app = App::build(settings).await.expect("build");
    let addr = app.http_addr().expect("bound address");
    eventbank_testkit::ops::check_ops_endpoints(App::NAME, addr, app).await;
}
