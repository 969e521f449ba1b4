//! The real account-command service (transactional writes) feeding the
//! projector: read-your-writes with `min_version`, and readiness over
//! partitions that end in transaction markers.

use crate::common;

use std::time::Duration;

use eventbank_testkit::{InProcess, Isolation, TestEnv, eventually, local_http};
use serde_json::{Value, json};

const LONG: Duration = Duration::from_secs(90);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_your_writes_against_the_real_command_service() {
    let isolation = Isolation::new("e2e");
    let env = TestEnv::get();

    let mut command_settings = account_command::Settings {
        instance: "e2e".to_owned(),
        http: local_http(),
        kafka: env.kafka_settings(&isolation.topic_prefix()),
        auth: eventbank_testkit::auth::settings(),
        ..account_command::Settings::default()
    };
    command_settings.api.result_timeout_ms = 10_000;
    let command = InProcess::<account_command::App>::start(command_settings).await;
    let command_base = command.base_url();

    let mut projector_settings = common::settings(&isolation);
    projector_settings.instance = "e2e".to_owned();
    projector_settings.projector.lag_interval_ms = 200;
    let projector = InProcess::<balance_projector::App>::start(projector_settings.clone()).await;
    let projector_base = projector.base_url();

    let http = eventbank_testkit::http::client();
    let opened: Value = eventually("account opened", LONG, || async {
        let response = http
            .post(format!("{command_base}/accounts"))
            .json(&json!({"holder": "Ann", "currency": "EUR"}))
            .send()
            .await
            .ok()?;
        (response.status() == 201).then_some(())?;
        response.json().await.ok()
    })
    .await;
    let id = opened["account_id"].as_str().unwrap().to_owned();
    let mut version = 1;
    for amount in [500, 250] {
        let reply: Value = http
            .post(format!("{command_base}/accounts/{id}/deposits"))
            .json(&json!({ "amount": amount }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        version = reply["version"].as_u64().unwrap();
        // Read-your-writes: the read waits for the projector.
        let view = read_view(&http, &projector_base, &id, version).await;
        if view["behind"] == true {
            // The first read may race the projector's first assignment; the
            // next one must not.
            continue;
        }
        assert_eq!(view["version"], version);
        assert_eq!(view["balance"], reply["balance"]);
    }
    let view = read_view(&http, &projector_base, &id, version).await;
    assert_eq!(view["behind"], false, "{view}");
    assert_eq!(view["balance"], 750);
    assert_eq!(view["holder"], "Ann");

    // Partitions written transactionally end in commit markers; the
    // projector must still report itself caught up.
    eventually("projector ready", LONG, || async {
        let response = http
            .get(format!("{projector_base}/readyz"))
            .send()
            .await
            .ok()?;
        (response.status() == 200).then_some(())
    })
    .await;
    let metrics = eventbank_testkit::metrics::scrape(&projector_base)
        .await
        .expect("GET /metrics");
    eventually("lag is zero", LONG, || async {
        let metrics = eventbank_testkit::metrics::scrape(&projector_base).await?;
        metrics
            .lines()
            .filter(|l| l.starts_with("eventbank_projector_lag{"))
            .all(|l| l.ends_with(" 0"))
            .then_some(())
    })
    .await;
    assert!(metrics.contains("eventbank_projector_lag{"), "{metrics}");

    projector.stop().await;
    command.stop().await;
}

/// `id`'s view, read with `min_version`: the projector holds the answer
/// (for a bounded while) until it has applied `version`.
async fn read_view(http: &reqwest::Client, base: &str, id: &str, version: u64) -> Value {
    http.get(format!("{base}/accounts/{id}?min_version={version}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
