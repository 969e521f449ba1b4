//! What each node of a private cluster is started from: its directory, its
//! `server.properties` and log configuration, and its formatted storage.

use std::path::{Path, PathBuf};

use super::kafka_uuid::random_kafka_uuid;
use super::{Node, PrivateKafka};

impl PrivateKafka {
    pub(super) fn node_dir(&self, node: &Node) -> PathBuf {
        self.dir.join(format!("node-{}", node.id))
    }

    pub(super) fn format(&self) {
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
            if let Some(tls) = &self.tls {
                format.args(tls.format_args());
            }
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
        let listeners = match &self.tls {
            Some(tls) => tls.properties(node),
            None => format!(
                "listeners=PLAINTEXT://127.0.0.1:{broker},CONTROLLER://127.0.0.1:{controller}\n\
                 advertised.listeners=PLAINTEXT://127.0.0.1:{advertised}\n\
                 controller.listener.names=CONTROLLER\n\
                 inter.broker.listener.name=PLAINTEXT\n\
                 listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n",
                broker = node.broker_port,
                advertised = node.advertised_port,
                controller = node.controller_port,
            ),
        };
        format!(
            "process.roles=broker,controller\n\
             node.id={id}\n\
             controller.quorum.bootstrap.servers={voters}\n\
             {listeners}\
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
            data = dir.join("data").display(),
        )
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
