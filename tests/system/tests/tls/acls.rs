//! Kafka ACLs per service, enforced: a TLS cluster with the KRaft
//! `StandardAuthorizer` (no ACL, no access), one SCRAM principal per service,
//! each granted exactly what its own declaration (`kafka_access`, the code
//! behind `<service> kafka-acls`) says. Then the projector's principal is
//! refused on `account-events` (it must never write the event store) and
//! allowed on its dead-letter topic; account-command's may append events but
//! not transfer events.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use eventbank_runtime::kafka::access::{Acl, Resource};
use eventbank_runtime::kafka::{KafkaSettings, create_system_topics};
use eventbank_runtime::service::Service;
use eventbank_testkit::tls::{ScramUser, TestCertificates};
use eventbank_testkit::{Isolation, PrivateKafka, TestEnv};
use rdkafka::producer::FutureRecord;

/// Grants `acls` to `principal` with Kafka's own ACL tool, logged in as the
/// cluster's super user: one call per resource, every operation on it.
fn grant(cluster: &PrivateKafka, dir: &Path, principal: &str, acls: &[Acl]) {
    let admin = cluster.admin();
    let config = dir.join("admin.properties");
    std::fs::write(
        &config,
        format!(
            "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n\
             sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \
             username=\"{}\" password=\"{}\";\n\
             ssl.truststore.type=PEM\nssl.truststore.location={}\n",
            admin.name,
            admin.password,
            cluster.ca_file().display()
        ),
    )
    .expect("admin client config");
    let libs = TestEnv::get()
        .kafka_libs
        .clone()
        .expect("EVENTBANK_TEST_KAFKA_LIBS");
    let mut by_resource: BTreeMap<(Resource, String, bool), Vec<String>> = BTreeMap::new();
    for acl in acls {
        by_resource
            .entry((acl.resource, acl.name.clone(), acl.prefixed))
            .or_default()
            .push(acl.operation.to_string());
    }
    for ((resource, name, prefixed), operations) in by_resource {
        let mut command = Command::new("java");
        command
            .arg("-cp")
            .arg(format!("{}/*", libs.display()))
            .arg("org.apache.kafka.tools.AclCommand")
            .args(["--bootstrap-server", &cluster.sasl_ssl_bootstrap_servers()])
            .arg("--command-config")
            .arg(&config)
            .args(["--add", "--allow-principal", principal]);
        for operation in &operations {
            command.args(["--operation", operation]);
        }
        let flag = match resource {
            Resource::Topic => "--topic",
            Resource::Group => "--group",
            Resource::TransactionalId => "--transactional-id",
        };
        command.args([flag, &name]);
        if prefixed {
            command.args(["--resource-pattern-type", "prefixed"]);
        }
        let output = command.output().expect("run Kafka's ACL tool");
        assert!(
            output.status.success(),
            "granting {operations:?} on {name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Produces one record to `topic` as the settings' principal.
async fn produce(settings: &KafkaSettings, topic: &str) -> Result<(), String> {
    let producer = settings.producer().map_err(|err| err.to_string())?;
    producer
        .send(
            FutureRecord::to(topic).key("k").payload("{}"),
            Duration::from_secs(20),
        )
        .await
        .map(drop)
        .map_err(|(err, _)| err.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_service_writes_only_where_its_own_declaration_says() {
    let certs = TestCertificates::generate();
    let projector_user = ScramUser::new("balance-projector");
    let command_user = ScramUser::new("account-command");
    let cluster =
        PrivateKafka::start_tls_with_acls(&certs, &[projector_user.clone(), command_user.clone()])
            .await;
    let isolation = Isolation::new("acls");
    let prefix = isolation.topic_prefix();
    create_system_topics(&cluster.kafka_settings(&prefix), Duration::from_secs(60))
        .await
        .expect("the topic set-up job's principal creates the topics");
    let dir = tempfile::tempdir().expect("temp dir");

    let projector = balance_projector::Settings {
        kafka: cluster.sasl_ssl_settings(&prefix, &projector_user),
        ..Default::default()
    };
    let command = account_command::Settings {
        kafka: cluster.sasl_ssl_settings(&prefix, &command_user),
        ..Default::default()
    };
    let topic = |name: &str| format!("{prefix}{name}");

    // Nothing is granted yet: even the dead-letter topic is refused.
    let refused = produce(&projector.kafka, &topic("account-events.dlq")).await;
    assert!(refused.is_err(), "no ACL, no access: {refused:?}");

    let projector_acls = balance_projector::App::kafka_access(&projector).acls(&projector.kafka);
    grant(
        &cluster,
        dir.path(),
        "User:balance-projector",
        &projector_acls,
    );
    let command_acls = account_command::App::kafka_access(&command).acls(&command.kafka);
    grant(&cluster, dir.path(), "User:account-command", &command_acls);

    // ACLs reach the broker's authorizer through the metadata log: give it
    // a moment, by asking until the grant shows.
    eventbank_testkit::eventually(
        "the projector's grant in force",
        Duration::from_secs(30),
        || async {
            produce(&projector.kafka, &topic("account-events.dlq"))
                .await
                .ok()
        },
    )
    .await;
    let minted = produce(&projector.kafka, &topic("account-events")).await;
    let refusal = minted.expect_err("the projector must never write the event store");
    assert!(
        refusal.contains("uthoriz"),
        "refused for want of an ACL: {refusal}"
    );

    produce(&command.kafka, &topic("account-events"))
        .await
        .expect("account-command is the event store's single writer");
    let stray = produce(&command.kafka, &topic("transfer-events")).await;
    assert!(
        stray.as_ref().is_err_and(|err| err.contains("uthoriz")),
        "account-command writes no transfer events: {stray:?}"
    );
}
