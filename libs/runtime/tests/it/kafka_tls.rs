//! Kafka clients over TLS for real: a private cluster with only an `SSL` and
//! a `SASL_SSL` (SCRAM-SHA-512) listener, certificates made for the test.

use std::time::Duration;

use eventbank_runtime::kafka::{
    ConnectionError, TopicSetupError, create_system_topics, ensure_system_topics,
};
use eventbank_runtime::secret::Secret;
use eventbank_testkit::tls::{ScramUser, TestCertificates};
use eventbank_testkit::{Isolation, PrivateKafka};
use rdkafka::producer::FutureRecord;

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_connect_over_ssl_and_sasl_ssl_and_a_wrong_password_is_refused() {
    let certs = TestCertificates::generate();
    let user = ScramUser::new("account-command");
    let cluster = PrivateKafka::start_tls(&certs, std::slice::from_ref(&user)).await;
    let isolation = Isolation::new("kafka_tls");
    let prefix = isolation.topic_prefix();

    // SASL_SSL as a service's user: topics created, a record written.
    let sasl = cluster.sasl_ssl_settings(&prefix, &user);
    let partitions = create_system_topics(&sasl, LIMIT)
        .await
        .expect("topics created over SASL_SSL");
    assert!(!partitions.is_empty());
    let topic = partitions.keys().next().expect("a topic").clone();
    let producer = sasl.producer().expect("producer");
    producer
        .send(
            FutureRecord::to(&topic).key("k").payload("over tls"),
            Duration::from_secs(10),
        )
        .await
        .expect("a record written over SASL_SSL");

    // SSL, no login: the same cluster's metadata.
    let ssl = cluster.ssl_settings(&prefix);
    ssl.validate().expect("ssl settings validate");
    assert_eq!(ssl.check_connection(LIMIT).await.expect("SSL connects"), 1);

    // A wrong password: refused at once, saying whose credentials.
    let wrong = eventbank_runtime::kafka::KafkaSettings {
        sasl_password: Some(Secret::new("not-the-password")),
        ..sasl.clone()
    };
    let err = wrong
        .check_connection(LIMIT)
        .await
        .expect_err("a wrong password must be refused");
    assert!(
        matches!(err, ConnectionError::Authentication { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("account-command"), "{text}");
    assert!(!text.contains("not-the-password"), "{text}");
    // A service that creates no topics is stopped by it all the same.
    let mut no_create = wrong.clone();
    no_create.topics.create = false;
    let err = ensure_system_topics(&no_create, LIMIT)
        .await
        .expect_err("refused credentials stop a service that creates no topics");
    assert!(
        matches!(
            err,
            TopicSetupError::Connection(ConnectionError::Authentication { .. })
        ),
        "{err:?}"
    );

    // A CA that did not sign the brokers' certificates: a TLS error.
    let untrusted = eventbank_runtime::kafka::KafkaSettings {
        ssl_ca_file: Some(certs.other_ca_file()),
        ..ssl
    };
    let err = untrusted
        .check_connection(LIMIT)
        .await
        .expect_err("an untrusted broker must be refused");
    assert!(matches!(err, ConnectionError::Tls { .. }), "{err:?}");
}

/// A service that creates no topics still starts while the cluster is away
/// (readiness then waits for it), as before the connection check.
#[tokio::test]
async fn without_topic_creation_an_absent_cluster_does_not_stop_the_start() {
    let mut settings = eventbank_testkit::TestEnv::get().kafka_settings("absent.");
    settings.bootstrap_servers = format!("127.0.0.1:{}", eventbank_testkit::process::free_port());
    settings.topics.create = false;
    ensure_system_topics(&settings, LIMIT)
        .await
        .expect("an unreachable cluster is left to readiness");
}
