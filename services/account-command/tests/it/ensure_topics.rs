//! `account-command ensure-topics`: what a deployment's topic job runs. It
//! creates every topic (and dead-letter topic) with the services' own layout
//! against the real broker, and is idempotent.

use std::process::Command;
use std::time::Duration;

use eventbank_testkit::process::kafka_env;
use eventbank_testkit::{Isolation, TestEnv};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

fn run(args: &[&str], isolation: &Isolation) -> std::process::Output {
    let kafka = TestEnv::get().kafka_settings(&isolation.topic_prefix());
    Command::new(env!("CARGO_BIN_EXE_account-command"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(kafka_env(&kafka))
        .env("EVENTBANK_TELEMETRY__LOG_FILTER", "warn")
        .output()
        .expect("run account-command")
}

#[test]
fn ensure_topics_creates_every_topic_with_the_layout_and_is_idempotent() {
    let isolation = Isolation::new("ensure-topics");
    for attempt in 0..2 {
        let output = run(&["ensure-topics"], &isolation);
        assert!(
            output.status.success(),
            "attempt {attempt}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let kafka = TestEnv::get().kafka_settings(&isolation.topic_prefix());
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &kafka.bootstrap_servers)
        .create()
        .expect("metadata client");
    let metadata = consumer
        .fetch_metadata(None, Duration::from_secs(30))
        .expect("metadata");
    let specs = kafka.topics().specs(&kafka.layout());
    assert!(specs.len() >= 14, "every topic and its dlq");
    for spec in specs {
        let topic = metadata
            .topics()
            .iter()
            .find(|topic| topic.name() == spec.name)
            .unwrap_or_else(|| panic!("{} was not created", spec.name));
        assert_eq!(
            i32::try_from(topic.partitions().len()).expect("small"),
            kafka.topics.partitions,
            "{}",
            spec.name
        );
    }
}

#[test]
fn an_unknown_subcommand_fails_with_the_known_ones() {
    let output = run(&["ensure-topcis"], &Isolation::new("bad-subcommand"));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ensure-topics"), "{stderr}");
}
