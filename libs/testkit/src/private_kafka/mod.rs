//! A Kafka cluster of a test's own, for the tests that must pause, kill or
//! restart a broker: doing that to the shared cluster `scripts/dev` started
//! would fail every other test running beside it. Started from the broker jars
//! `scripts/dev` caches (their directory is `EVENTBANK_TEST_KAFKA_LIBS`), in
//! KRaft mode (each node broker and controller), on free ports, with its data
//! in a temporary directory removed on drop (kept, and named, if the test
//! failed, so its server logs can be read).

mod kafka_uuid;
mod node_files;
mod node_processes;
mod tls;

use std::path::PathBuf;
use std::process::{Child, Command};

use eventbank_runtime::kafka::KafkaSettings;

use crate::env::{TestEnv, kafka_settings_for};
use crate::kafka_proxy::KafkaProxy;
use crate::process::free_port;
use crate::tls::TestCertificates;
use kafka_uuid::random_kafka_uuid;
use tls::ClusterTls;
pub use tls::{ADMIN, ScramUser};

/// A running private cluster; every node is stopped when dropped.
#[derive(Debug)]
pub struct PrivateKafka {
    dir: PathBuf,
    libs: PathBuf,
    nodes: Vec<Node>,
    proxy: Option<KafkaProxy>,
    /// Set for a cluster with TLS listeners only ([`Self::start_tls`]).
    tls: Option<ClusterTls>,
}

#[derive(Debug)]
struct Node {
    id: usize,
    broker_port: u16,
    /// What clients are told to connect to: the proxy's port, if any.
    advertised_port: u16,
    controller_port: u16,
    /// The `SSL` and `SASL_SSL` listeners' ports of a TLS cluster, which has
    /// no plaintext listener for clients.
    tls_ports: Option<(u16, u16)>,
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
        Self::launch_with(count, proxied, None).await
    }

    async fn launch_with(
        count: usize,
        proxied: bool,
        tls: Option<(&TestCertificates, &[ScramUser], bool)>,
    ) -> Self {
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
                    tls_ports: tls.is_some().then(|| (free_port(), free_port())),
                    process: None,
                }
            })
            .collect();
        let dir = std::env::temp_dir().join(format!("eventbank-kafka-{}", random_kafka_uuid()));
        std::fs::create_dir_all(&dir).expect("create the private cluster's directory");
        let tls = tls.map(|(certs, users, authorize)| {
            let mut tls = ClusterTls::new(&dir, certs, users);
            tls.authorize = authorize;
            tls
        });
        let mut cluster = Self {
            dir,
            libs,
            nodes,
            proxy,
            tls,
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

    /// Where clients connect (on a TLS cluster: its `SASL_SSL` listeners).
    pub fn bootstrap_servers(&self) -> String {
        if self.tls.is_some() {
            return self.sasl_ssl_bootstrap_servers();
        }
        self.nodes
            .iter()
            .map(|node| format!("127.0.0.1:{}", node.advertised_port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Kafka settings for a test against this cluster: as
    /// [`TestEnv::kafka_settings`], with this cluster's replication (on a TLS
    /// cluster: as its super user on the `SASL_SSL` listener).
    pub fn kafka_settings(&self, topic_prefix: &str) -> KafkaSettings {
        match &self.tls {
            Some(tls) => self.sasl_ssl_settings(topic_prefix, &tls.admin),
            None => kafka_settings_for(self.bootstrap_servers(), self.nodes.len(), topic_prefix),
        }
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
