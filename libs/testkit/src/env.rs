//! Where the real infrastructure of a test run is: read from the
//! `EVENTBANK_TEST_*` variables `scripts/dev` writes to `.dev/env`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use eventbank_runtime::kafka::{KafkaSettings, TopicSettings};

/// Where the real infrastructure listens.
#[derive(Debug, Clone)]
pub struct TestEnv {
    pub kafka_bootstrap: String,
    pub kafka_brokers: u16,
    pub redis_url: String,
    pub postgres_url: String,
    /// The broker jars `scripts/dev` cached, for tests that start a
    /// [`PrivateKafka`](crate::PrivateKafka) of their own.
    pub kafka_libs: Option<PathBuf>,
    /// Jaeger's query API, when started (`EVENTBANK_TEST_JAEGER_QUERY`).
    pub jaeger_query: Option<String>,
    /// Where services export traces, OTLP over HTTP (`EVENTBANK_TEST_OTLP_ENDPOINT`).
    pub otlp_endpoint: Option<String>,
}

const KAFKA: &str = "EVENTBANK_TEST_KAFKA";
const KAFKA_BROKERS: &str = "EVENTBANK_TEST_KAFKA_BROKERS";
const REDIS: &str = "EVENTBANK_TEST_REDIS";
const POSTGRES: &str = "EVENTBANK_TEST_POSTGRES";
const KAFKA_LIBS: &str = "EVENTBANK_TEST_KAFKA_LIBS";
const JAEGER_QUERY: &str = "EVENTBANK_TEST_JAEGER_QUERY";
const OTLP_ENDPOINT: &str = "EVENTBANK_TEST_OTLP_ENDPOINT";

impl TestEnv {
    /// The environment, from `EVENTBANK_TEST_*` variables or the `.dev/env` file
    /// `scripts/dev up` writes. Panics with instructions when neither exists: an
    /// integration test that silently skipped would be a check that cannot fail.
    pub fn get() -> &'static TestEnv {
        static ENV: OnceLock<TestEnv> = OnceLock::new();
        ENV.get_or_init(|| {
            let file = read_env_file();
            let lookup = |key: &str| std::env::var(key).ok().or_else(|| file.get(key).cloned());
            let require = |key: &str| {
                lookup(key).unwrap_or_else(|| {
                    panic!(
                        "{key} is not set and {} has no value for it: start the real \
                         infrastructure with `scripts/dev up` (or run `scripts/test`)",
                        env_file_path().display()
                    )
                })
            };
            TestEnv {
                kafka_bootstrap: require(KAFKA),
                kafka_brokers: lookup(KAFKA_BROKERS)
                    .and_then(|count| count.parse().ok())
                    .unwrap_or(1),
                redis_url: require(REDIS),
                postgres_url: require(POSTGRES),
                kafka_libs: lookup(KAFKA_LIBS).map(PathBuf::from),
                jaeger_query: lookup(JAEGER_QUERY),
                otlp_endpoint: lookup(OTLP_ENDPOINT),
            }
        })
    }

    /// The trace backend `scripts/dev up --observability` started: its query
    /// API and its OTLP/HTTP endpoint. Panics with instructions without one.
    pub fn observability(&self) -> (&str, &str) {
        match (&self.jaeger_query, &self.otlp_endpoint) {
            (Some(query), Some(otlp)) => (query, otlp),
            _ => panic!(
                "{JAEGER_QUERY} and {OTLP_ENDPOINT} are not set: start the infrastructure \
                 with `scripts/dev up --infra-only --observability` (or run `scripts/test`)"
            ),
        }
    }

    /// Kafka settings for a test: its own topic prefix, few partitions (a 2-core
    /// machine runs many tests at once) and a replication factor that fits the
    /// cluster the dev script started.
    pub fn kafka_settings(&self, topic_prefix: &str) -> KafkaSettings {
        kafka_settings_for(
            self.kafka_bootstrap.clone(),
            usize::from(self.kafka_brokers),
            topic_prefix,
        )
    }
}

/// Settings for a test on a cluster of `brokers` at `bootstrap_servers`.
pub(crate) fn kafka_settings_for(
    bootstrap_servers: String,
    brokers: usize,
    topic_prefix: &str,
) -> KafkaSettings {
    let replication_factor = if brokers >= 3 { 3 } else { 1 };
    KafkaSettings {
        bootstrap_servers,
        topic_prefix: topic_prefix.to_owned(),
        topics: TopicSettings {
            create: true,
            partitions: 3,
            replication_factor,
            min_insync_replicas: (replication_factor == 3).then_some(2),
        },
        ..KafkaSettings::default()
    }
}

fn env_file_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.dev/env")
}

fn read_env_file() -> HashMap<String, String> {
    let Ok(text) = std::fs::read_to_string(env_file_path()) else {
        return HashMap::new();
    };
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| {
            let key = key.trim().trim_start_matches("export ").trim();
            (key.to_owned(), value.trim().trim_matches('"').to_owned())
        })
        .collect()
}
