//! A Kafka cluster of a test's own, for the tests that must pause, kill or
//! restart a broker: doing that to the shared cluster `scripts/dev` started
//! would fail every other test running beside it. Started from the broker jars
//! `scripts/dev` caches (their directory is `EVENTBANK_TEST_KAFKA_LIBS`), in
//! KRaft mode (each node broker and controller), on free ports, with its data
//! in a temporary directory removed on drop (kept, and named, if the test
//! failed, so its server logs can be read).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use eventbank_runtime::kafka::KafkaSettings;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::env::{TestEnv, kafka_settings_for};
use crate::kafka_proxy::KafkaProxy;
use crate::process::free_port;

/// How long a node may take to join its cluster on a busy 2-core machine.
const START_LIMIT: Duration = Duration::from_secs(120);

/// A running private cluster; every node is stopped when dropped.
#[derive(Debug)]
pub struct PrivateKafka {
    dir: PathBuf,
    libs: PathBuf,
    nodes: Vec<Node>,
    proxy: Option<KafkaProxy>,
}

#[derive(Debug)]
struct Node {
    id: usize,
    broker_port: u16,
    /// What clients are told to connect to: the proxy's port, if any.
    advertised_port: u16,
    controller_port: u16,
    process: Option<Child>,
}

impl PrivateKafka {
    /// Formats and starts a cluster of `nodes` (1 or 3) and waits until every
    /// broker is registered.
    pub async fn start(nodes: usize) -> Self {
        Self::launch(nodes, false).await
    }

    /// One node whose clients all connect through a [`KafkaProxy`], so a
    /// test can inject a fault at one exact request.
    pub async fn start_behind_proxy() -> Self {
        Self::launch(1, true).await
    }

    async fn launch(count: usize, proxied: bool) -> Self {
        assert!(
            count == 1 || count == 3,
            "a private cluster has 1 or 3 nodes"
        );
        let libs = TestEnv::get().kafka_libs.clone().unwrap_or_else(|| {
            panic!(
                "EVENTBANK_TEST_KAFKA_LIBS is not set: run `scripts/dev up`, which caches \
                 the broker jars and writes their directory to .dev/env"
            )
        });
        let mut proxy = None;
        let nodes = (1..=count)
            .map(|id| {
                let broker_port = free_port();
                let advertised_port = if proxied {
                    let started = KafkaProxy::start(broker_port);
                    let port = started.port();
                    proxy = Some(started);
                    port
                } else {
                    broker_port
                };
                Node {
                    id,
                    broker_port,
                    advertised_port,
                    controller_port: free_port(),
                    process: None,
                }
            })
            .collect();
        let dir = std::env::temp_dir().join(format!("eventbank-kafka-{}", random_kafka_uuid()));
        std::fs::create_dir_all(&dir).expect("create the private cluster's directory");
        let mut cluster = Self {
            dir,
            libs,
            nodes,
            proxy,
        };
        tokio::task::spawn_blocking(move || {
            cluster.format();
            for index in 0..count {
                cluster.spawn(index);
            }
            cluster.wait_for_brokers(count);
            cluster
        })
        .await
        .expect("starting the private cluster panicked")
    }

    /// The proxy in front of the node (only for
    /// [`start_behind_proxy`](Self::start_behind_proxy)).
    pub fn proxy(&self) -> &KafkaProxy {
        self.proxy
            .as_ref()
            .expect("this cluster was started without a proxy")
    }

    pub fn bootstrap_servers(&self) -> String {
        self.nodes
            .iter()
            .map(|node| format!("127.0.0.1:{}", node.advertised_port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Kafka settings for a test against this cluster: as
    /// [`TestEnv::kafka_settings`], with this cluster's replication.
    pub fn kafka_settings(&self, topic_prefix: &str) -> KafkaSettings {
        kafka_settings_for(self.bootstrap_servers(), self.nodes.len(), topic_prefix)
    }

    /// SIGSTOP: the node keeps its sockets open and answers nothing, as in a
    /// long GC pause or a frozen VM. Clients see timeouts, not refusals.
    pub fn pause(&self, node: usize) {
        self.signal(node, "-STOP");
    }

    /// SIGCONT after [`pause`](Self::pause).
    pub fn resume(&self, node: usize) {
        self.signal(node, "-CONT");
    }

    /// SIGKILL: no controlled shutdown, no leadership hand-over.
    pub fn kill(&mut self, node: usize) {
        if let Some(mut child) = self.nodes[node].process.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts a killed node again on its old ports and data; waits until the
    /// whole cluster is registered.
    pub fn restart(&mut self, node: usize) {
        self.kill(node);
        self.spawn(node);
        self.wait_for_brokers(self.nodes.len());
    }

    fn signal(&self, node: usize, signal: &str) {
        let child = self.nodes[node]
            .process
            .as_ref()
            .unwrap_or_else(|| panic!("node {node} is not running"));
        let status = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} node {node}");
    }

    fn node_dir(&self, node: &Node) -> PathBuf {
        self.dir.join(format!("node-{}", node.id))
    }

    fn format(&self) {
        let cluster_id = random_kafka_uuid();
        let voters = self
            .nodes
            .iter()
            .map(|node| format!("127.0.0.1:{}", node.controller_port))
            .collect::<Vec<_>>()
            .join(",");
        let initial = self
            .nodes
            .iter()
            .map(|node| {
                format!(
                    "{}@127.0.0.1:{}:{}",
                    node.id,
                    node.controller_port,
                    random_kafka_uuid()
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        for node in &self.nodes {
            let dir = self.node_dir(node);
            std::fs::create_dir_all(dir.join("data")).expect("create node directory");
            std::fs::write(
                dir.join("server.properties"),
                self.properties(node, &dir, &voters),
            )
            .expect("write server.properties");
            std::fs::write(dir.join("log4j2.xml"), log4j_config(&dir)).expect("write log4j2.xml");
            let mut format = self.java(&dir);
            format.args(["kafka.tools.StorageTool", "format", "-t", &cluster_id, "-c"]);
            format.arg(dir.join("server.properties"));
            if self.nodes.len() == 1 {
                format.arg("--standalone");
            } else {
                format.args(["--initial-controllers", &initial]);
            }
            let output = format.output().expect("run the storage tool");
            assert!(
                output.status.success(),
                "formatting node {} failed: {}",
                node.id,
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }

    fn properties(&self, node: &Node, dir: &Path, voters: &str) -> String {
        let (rf, isr) = if self.nodes.len() >= 3 {
            (3, 2)
        } else {
            (1, 1)
        };
        format!(
            "process.roles=broker,controller\n\
             node.id={id}\n\
             controller.quorum.bootstrap.servers={voters}\n\
             listeners=PLAINTEXT://127.0.0.1:{broker},CONTROLLER://127.0.0.1:{controller}\n\
             advertised.listeners=PLAINTEXT://127.0.0.1:{advertised}\n\
             controller.listener.names=CONTROLLER\n\
             inter.broker.listener.name=PLAINTEXT\n\
             listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n\
             log.dirs={data}\n\
             auto.create.topics.enable=false\n\
             default.replication.factor={rf}\n\
             min.insync.replicas={isr}\n\
             offsets.topic.replication.factor={rf}\n\
             offsets.topic.num.partitions=3\n\
             transaction.state.log.replication.factor={rf}\n\
             transaction.state.log.min.isr={isr}\n\
             transaction.state.log.num.partitions=3\n\
             share.coordinator.state.topic.replication.factor={rf}\n\
             share.coordinator.state.topic.min.isr={isr}\n\
             group.initial.rebalance.delay.ms=0\n",
            id = node.id,
            broker = node.broker_port,
            advertised = node.advertised_port,
            controller = node.controller_port,
            data = dir.join("data").display(),
        )
    }

    /// A short-lived or broker JVM on the cached jars, logging to `dir`.
    fn java(&self, dir: &Path) -> Command {
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

    fn spawn(&mut self, index: usize) {
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
    fn wait_for_brokers(&mut self, count: usize) {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", self.bootstrap_servers())
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

impl Drop for PrivateKafka {
    fn drop(&mut self) {
        for index in 0..self.nodes.len() {
            if let Some(child) = &self.nodes[index].process {
                // A paused JVM would not act on SIGKILL until resumed.
                let _ = Command::new("kill")
                    .args(["-CONT", &child.id().to_string()])
                    .status();
            }
            self.kill(index);
        }
        if std::thread::panicking() {
            eprintln!(
                "private Kafka cluster kept for inspection: {}",
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A Kafka `Uuid` in its text form: 16 random bytes, URL-safe base64 without
/// padding. Kafka refuses ids whose text starts with `-`.
fn random_kafka_uuid() -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    loop {
        let bytes = uuid::Uuid::new_v4().into_bytes();
        let mut text = String::with_capacity(22);
        for chunk in bytes.chunks(3) {
            let word = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
            let chars = chunk.len() + 1;
            for i in 0..chars {
                text.push(char::from(ALPHABET[((word >> (18 - 6 * i)) & 63) as usize]));
            }
        }
        if !text.starts_with('-') {
            return text;
        }
    }
}

fn log4j_config(dir: &Path) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="warn">
  <Appenders>
    <File name="file" fileName="{log}"><PatternLayout pattern="[%d] %p %m (%c)%n"/></File>
  </Appenders>
  <Loggers>
    <Root level="info"><AppenderRef ref="file"/></Root>
    <Logger name="kafka.request.logger" level="warn"/>
  </Loggers>
</Configuration>
"#,
        log = dir.join("server.log").display()
    )
}

#[cfg(test)]
mod tests {
    use super::random_kafka_uuid;

    #[test]
    fn kafka_uuids_are_22_url_safe_characters() {
        for _ in 0..100 {
            let id = random_kafka_uuid();
            assert_eq!(id.len(), 22, "{id}");
            assert!(!id.starts_with('-'));
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{id}"
            );
        }
    }
}
