//! The nodes' JVMs: starting one on the cached jars and waiting until the
//! cluster has registered its brokers.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};

use super::PrivateKafka;

/// How long a node may take to join its cluster on a busy 2-core machine.
const START_LIMIT: Duration = Duration::from_secs(120);

impl PrivateKafka {
    /// A short-lived or broker JVM on the cached jars, logging to `dir`.
    pub(super) fn java(&self, dir: &Path) -> Command {
        let mut java = Command::new("java");
        java.arg(format!(
            "-Dlog4j2.configurationFile={}",
            dir.join("log4j2.xml").display()
        ))
        .arg("-cp")
        .arg(format!("{}/*", self.libs.display()))
        .stdin(Stdio::null());
        java
    }

    pub(super) fn spawn(&mut self, index: usize) {
        let dir = self.node_dir(&self.nodes[index]);
        let out = std::fs::File::create(dir.join("stdout.log")).expect("create stdout.log");
        let err = out.try_clone().expect("clone log handle");
        let mut java = self.java(&dir);
        java.args([
            "-Xms256m",
            "-Xmx512m",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            "kafka.Kafka",
        ])
        .arg(dir.join("server.properties"))
        .stdout(out)
        .stderr(err);
        let child = java.spawn().expect("start a private Kafka node");
        self.nodes[index].process = Some(child);
    }

    /// Waits until the cluster's metadata names `count` brokers.
    pub(super) fn wait_for_brokers(&mut self, count: usize) {
        let consumer: BaseConsumer = self
            .kafka_settings("")
            .client_config()
            .set("log_level", "0")
            .create()
            .expect("metadata client");
        let started = Instant::now();
        loop {
            if let Ok(metadata) = consumer.fetch_metadata(None, Duration::from_secs(5))
                && metadata.brokers().len() == count
            {
                return;
            }
            for node in &mut self.nodes {
                if let Some(child) = node.process.as_mut()
                    && let Ok(Some(status)) = child.try_wait()
                {
                    panic!(
                        "private Kafka node {} exited with {status}; see {}",
                        node.id,
                        self.dir.display()
                    );
                }
            }
            assert!(
                started.elapsed() < START_LIMIT,
                "the private cluster did not register {count} broker(s) in {START_LIMIT:?}; see {}",
                self.dir.display()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}
