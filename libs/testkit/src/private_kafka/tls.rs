//! A private cluster whose clients can only speak TLS: an `SSL` listener
//! (encryption, no client identity) and a `SASL_SSL` listener where each
//! client logs in with SCRAM-SHA-512. Only the controllers' own listener
//! stays plaintext, on 127.0.0.1, and no client is ever told of it.
//!
//! SCRAM users are created when the storage is formatted (`--add-scram`), so
//! they exist before the first broker starts. One of them, [`ADMIN`], is the
//! brokers' own identity between each other and a super user: turning on an
//! authorizer (`authorizer.class.name`, one principal per service) leaves it
//! — and the tests that create topics with it — working.

use std::path::PathBuf;

use eventbank_runtime::kafka::{KafkaSettings, SaslMechanism, SecurityProtocol};
use eventbank_runtime::secret::Secret;

use super::{Node, PrivateKafka};
use crate::tls::TestCertificates;

/// The user name of the cluster's super user.
pub const ADMIN: &str = "admin";

/// A SCRAM-SHA-512 user of a TLS cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScramUser {
    pub name: String,
    pub password: String,
}

impl ScramUser {
    /// A user with a random password (letters, digits and `-` only: the
    /// storage tool's `name=…,password=…` syntax has no quoting).
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            password: crate::tls::random_password(),
        }
    }
}

/// What a TLS cluster was started with.
#[derive(Debug)]
pub(super) struct ClusterTls {
    pub(super) ca_file: PathBuf,
    keystore_file: PathBuf,
    pub(super) admin: ScramUser,
    pub(super) users: Vec<ScramUser>,
    /// ACLs enforced (see [`PrivateKafka::start_tls_with_acls`]).
    pub(super) authorize: bool,
}

impl ClusterTls {
    /// Copies the certificates into the cluster's directory, so the cluster
    /// does not depend on how long the caller keeps `certs`.
    pub(super) fn new(
        dir: &std::path::Path,
        certs: &TestCertificates,
        users: &[ScramUser],
    ) -> Self {
        let copy = |from: PathBuf, name: &str| {
            let to = dir.join(name);
            std::fs::copy(&from, &to).expect("copy a certificate file");
            to
        };
        Self {
            ca_file: copy(certs.ca_file(), "ca.pem"),
            keystore_file: copy(certs.keystore_file(), "keystore.pem"),
            admin: ScramUser::new(ADMIN),
            users: users.to_vec(),
            authorize: false,
        }
    }

    /// `--add-scram` arguments of the storage tool: the admin and every user.
    pub(super) fn format_args(&self) -> Vec<String> {
        std::iter::once(&self.admin)
            .chain(&self.users)
            .flat_map(|user| {
                [
                    "--add-scram".to_owned(),
                    format!(
                        "SCRAM-SHA-512=[name={},password={}]",
                        user.name, user.password
                    ),
                ]
            })
            .collect()
    }

    /// The listener part of a node's `server.properties`. With the KRaft
    /// `StandardAuthorizer` (`authorize`): no ACL, no access, except for
    /// [`ADMIN`] and the node itself. The controller listener (plaintext, on
    /// 127.0.0.1) carries the node's own requests as `ANONYMOUS`, which must
    /// then be a super user too; so that cluster has no `SSL` listener,
    /// where every client would be `ANONYMOUS`: clients log in on `SASL_SSL`.
    pub(super) fn properties(&self, node: &Node) -> String {
        let (ssl, sasl_ssl) = node.tls_ports.expect("a TLS node has TLS ports");
        let controller = node.controller_port;
        let admin = &self.admin.name;
        let (listeners, protocols, authorizer) = if self.authorize {
            (
                format!(
                    "listeners=SASL_SSL://127.0.0.1:{sasl_ssl},CONTROLLER://127.0.0.1:{controller}\n\
                     advertised.listeners=SASL_SSL://127.0.0.1:{sasl_ssl}\n"
                ),
                "SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT",
                format!(
                    "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer\n\
                     allow.everyone.if.no.acl.found=false\n\
                     super.users=User:{admin};User:ANONYMOUS\n"
                ),
            )
        } else {
            (
                format!(
                    "listeners=SSL://127.0.0.1:{ssl},SASL_SSL://127.0.0.1:{sasl_ssl},CONTROLLER://127.0.0.1:{controller}\n\
                     advertised.listeners=SSL://127.0.0.1:{ssl},SASL_SSL://127.0.0.1:{sasl_ssl}\n"
                ),
                "SSL:SSL,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT",
                format!("super.users=User:{admin}\n"),
            )
        };
        format!(
            "{listeners}\
             controller.listener.names=CONTROLLER\n\
             inter.broker.listener.name=SASL_SSL\n\
             listener.security.protocol.map={protocols}\n\
             sasl.enabled.mechanisms=SCRAM-SHA-512\n\
             sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512\n\
             listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=\
             org.apache.kafka.common.security.scram.ScramLoginModule required \
             username=\"{admin}\" password=\"{password}\";\n\
             {authorizer}\
             ssl.client.auth=none\n\
             ssl.keystore.type=PEM\n\
             ssl.keystore.location={keystore}\n\
             ssl.truststore.type=PEM\n\
             ssl.truststore.location={ca}\n",
            password = self.admin.password,
            keystore = self.keystore_file.display(),
            ca = self.ca_file.display(),
        )
    }
}

impl PrivateKafka {
    /// [`start_tls`](Self::start_tls) with ACLs enforced: only [`ADMIN`] may
    /// do anything until it grants `users` their ACLs; no `SSL` listener
    /// (see `authorizing_properties`).
    pub async fn start_tls_with_acls(certs: &TestCertificates, users: &[ScramUser]) -> Self {
        Self::launch_with(1, false, Some((certs, users, true))).await
    }

    /// One node with only TLS listeners (see the module header), certificates
    /// from `certs`, and `users` (besides [`ADMIN`]) able to log in.
    pub async fn start_tls(certs: &TestCertificates, users: &[ScramUser]) -> Self {
        Self::launch_with(1, false, Some((certs, users, false))).await
    }

    fn tls(&self) -> &ClusterTls {
        self.tls
            .as_ref()
            .expect("this cluster was started without TLS (PrivateKafka::start_tls)")
    }

    /// The `SSL` listeners: TLS, no login.
    pub fn ssl_bootstrap_servers(&self) -> String {
        self.listeners(|(ssl, _)| ssl)
    }

    /// The `SASL_SSL` listeners: TLS and a SCRAM-SHA-512 login.
    pub fn sasl_ssl_bootstrap_servers(&self) -> String {
        self.listeners(|(_, sasl_ssl)| sasl_ssl)
    }

    fn listeners(&self, port: impl Fn((u16, u16)) -> u16) -> String {
        self.nodes
            .iter()
            .map(|node| format!("127.0.0.1:{}", port(node.tls_ports.expect("TLS node"))))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The PEM file of the CA that signed the brokers' certificates.
    pub fn ca_file(&self) -> PathBuf {
        self.tls().ca_file.clone()
    }

    /// The super user (see the module header).
    pub fn admin(&self) -> &ScramUser {
        &self.tls().admin
    }

    /// Settings for a client on the `SSL` listener.
    pub fn ssl_settings(&self, topic_prefix: &str) -> KafkaSettings {
        KafkaSettings {
            bootstrap_servers: self.ssl_bootstrap_servers(),
            security_protocol: SecurityProtocol::Ssl,
            ssl_ca_file: Some(self.ca_file()),
            ..super::kafka_settings_for(String::new(), self.nodes.len(), topic_prefix)
        }
    }

    /// Settings for a client logging in as `user` on the `SASL_SSL` listener.
    pub fn sasl_ssl_settings(&self, topic_prefix: &str, user: &ScramUser) -> KafkaSettings {
        KafkaSettings {
            bootstrap_servers: self.sasl_ssl_bootstrap_servers(),
            security_protocol: SecurityProtocol::SaslSsl,
            ssl_ca_file: Some(self.ca_file()),
            sasl_mechanism: Some(SaslMechanism::ScramSha512),
            sasl_username: Some(user.name.clone()),
            sasl_password: Some(Secret::new(user.password.clone())),
            ..super::kafka_settings_for(String::new(), self.nodes.len(), topic_prefix)
        }
    }
}
