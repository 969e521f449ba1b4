//! Where a run's services find Kafka, Redis and PostgreSQL under the run's
//! own prefixes, and starting one of them until it is ready.

use std::collections::BTreeMap;
use std::net::TcpListener;

use eventbank_runtime::kafka::KafkaSettings;

use super::{Bench, READY_LIMIT};
use crate::services::Service;

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Bench {
    pub(super) fn kafka(&self, prefix: &str) -> KafkaSettings {
        let mut kafka = KafkaSettings {
            bootstrap_servers: self.config.kafka.clone(),
            topic_prefix: prefix.to_owned(),
            ..KafkaSettings::default()
        };
        kafka.topics.partitions = self.config.partitions;
        kafka
    }

    pub(super) fn redis_prefix(&self, prefix: &str) -> String {
        prefix.replace('.', ":")
    }

    pub(super) fn schema(&self) -> String {
        format!("bench_{}", self.id)
    }

    /// The `EVENTBANK_*` settings of `service` under topic prefix `prefix`.
    pub(super) fn env(
        &self,
        service: &str,
        prefix: &str,
        port: u16,
        extra: &[(&str, String)],
    ) -> BTreeMap<String, String> {
        let mut env: BTreeMap<String, String> = [
            ("EVENTBANK_INSTANCE", format!("{service}-0")),
            ("EVENTBANK_HTTP__BIND", format!("127.0.0.1:{port}")),
            (
                "EVENTBANK_KAFKA__BOOTSTRAP_SERVERS",
                self.config.kafka.clone(),
            ),
            ("EVENTBANK_KAFKA__TOPIC_PREFIX", prefix.to_owned()),
            (
                "EVENTBANK_KAFKA__TOPICS__PARTITIONS",
                self.config.partitions.to_string(),
            ),
            ("EVENTBANK_TELEMETRY__LOG_FORMAT", "json".to_owned()),
            // The load comes from one address with up to 4,096 clients: the
            // per-client and overall limits (a policy, not a capacity) would
            // answer most of it 429/503 and measure the refusals.
            (
                "EVENTBANK_HTTP__LIMITS__MAX_IN_FLIGHT_PER_CLIENT",
                "1000000".to_owned(),
            ),
            (
                "EVENTBANK_HTTP__LIMITS__MAX_IN_FLIGHT",
                "1000000".to_owned(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let (key, tokens) = crate::auth::service_env();
        env.insert(key, tokens);
        match service {
            "balance-projector" => {
                env.insert("EVENTBANK_REDIS__URL".into(), self.config.redis.clone());
                env.insert(
                    "EVENTBANK_REDIS__KEY_PREFIX".into(),
                    self.redis_prefix(prefix),
                );
            }
            "audit-log" => {
                env.insert(
                    "EVENTBANK_POSTGRES__URL".into(),
                    self.config.postgres.clone(),
                );
                env.insert("EVENTBANK_POSTGRES__SCHEMA".into(), self.schema());
            }
            _ => {}
        }
        for (key, value) in extra {
            env.insert((*key).to_owned(), value.clone());
        }
        env.extend(self.config.service_settings.iter().cloned());
        env
    }

    pub(super) async fn start(
        &self,
        service: &str,
        prefix: &str,
        extra: &[(&str, String)],
        log_name: &str,
    ) -> anyhow::Result<Service> {
        let port = free_port()?;
        let env = self.env(service, prefix, port, extra);
        let log = self.logs.join(format!("{log_name}.log"));
        let mut process = Service::spawn(
            service,
            &self.config.bin_dir.join(service),
            port,
            &env,
            &log,
        )?;
        process.wait_ready(&self.http, READY_LIMIT).await?;
        Ok(process)
    }
}
