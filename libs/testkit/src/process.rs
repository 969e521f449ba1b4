//! A service binary as a child process, so a test can kill it the way a node
//! failure would: SIGKILL, no shutdown hook, no final commit.

use std::process::{Child, Command, Stdio};

use eventbank_runtime::kafka::KafkaSettings;

#[derive(Debug)]
pub struct ServiceProcess {
    child: Child,
    pub instance: String,
}

impl ServiceProcess {
    /// Starts `binary` (a `CARGO_BIN_EXE_*` path) as `instance` against the
    /// given Kafka settings' broker and topic prefix, on an ephemeral HTTP
    /// port, with `extra` `EVENTBANK_*` variables on top. Nothing else of the
    /// test's environment leaks in.
    pub fn spawn(
        binary: &str,
        instance: &str,
        kafka: &KafkaSettings,
        extra: &[(&str, &str)],
    ) -> Self {
        let child = Command::new(binary)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("EVENTBANK_INSTANCE", instance)
            .env("EVENTBANK_HTTP__BIND", "127.0.0.1:0")
            .env(
                "EVENTBANK_KAFKA__BOOTSTRAP_SERVERS",
                &kafka.bootstrap_servers,
            )
            .env("EVENTBANK_KAFKA__TOPIC_PREFIX", &kafka.topic_prefix)
            .env(
                "EVENTBANK_KAFKA__TOPICS__PARTITIONS",
                kafka.topics.partitions.to_string(),
            )
            .env(
                "EVENTBANK_KAFKA__TOPICS__REPLICATION_FACTOR",
                kafka.topics.replication_factor.to_string(),
            )
            .env("EVENTBANK_TELEMETRY__LOG_FILTER", "warn")
            .env("EVENTBANK_TELEMETRY__LOG_FORMAT", "json")
            .envs(extra.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|err| panic!("spawn {binary}: {err}"));
        Self {
            child,
            instance: instance.to_owned(),
        }
    }

    /// SIGKILL: the process gets no chance to commit or abort anything.
    pub fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("reap");
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn terminate(mut self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("send SIGTERM");
        assert!(status.success(), "kill -TERM failed");
        let exit = self.child.wait().expect("wait");
        assert!(exit.success(), "{} exited with {exit}", self.instance);
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
