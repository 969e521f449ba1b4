//! The read model on a Redis that speaks TLS only, logging in as an ACL user:
//! the store connects with the CA and the password, and is refused with a
//! wrong password or a CA that did not sign the server's certificate.

use balance_projector::RedisSettings;
use balance_projector::store::Store;
use eventbank_runtime::secret::Secret;
use eventbank_testkit::tls::{REDIS_USER, TestCertificates, TlsRedis};

#[tokio::test]
async fn the_store_connects_over_tls_as_an_acl_user_and_only_so() {
    let certs = TestCertificates::generate();
    let redis = TlsRedis::start(&certs);
    let settings = RedisSettings {
        url: redis.url(),
        key_prefix: "tls-test:".to_owned(),
        username: Some(REDIS_USER.to_owned()),
        password: Some(redis.password()),
        ca_file: Some(certs.ca_file()),
    };
    let store = Store::open(&settings).await.expect("connects over TLS");
    store.ping().await.expect("PING over TLS");
    assert_eq!(
        store.generation(),
        1,
        "a fresh Redis starts at generation 1"
    );

    let wrong_password = RedisSettings {
        password: Some(Secret::new("not-the-password")),
        ..settings.clone()
    };
    let err = Store::open(&wrong_password)
        .await
        .expect_err("a wrong password is refused")
        .to_string()
        .to_lowercase();
    assert!(err.contains("authentication failed"), "{err}");
    assert!(!err.contains("not-the-password"), "{err}");

    let untrusted = RedisSettings {
        ca_file: Some(certs.other_ca_file()),
        ..settings.clone()
    };
    let err = Store::open(&untrusted)
        .await
        .expect_err("an untrusted server is refused")
        .to_string();
    assert!(err.to_lowercase().contains("certificate"), "{err}");

    let plaintext = RedisSettings {
        url: format!("redis://127.0.0.1:{}", redis.port()),
        ca_file: None,
        ..settings
    };
    assert!(
        Store::open(&plaintext).await.is_err(),
        "the TLS port does not speak plaintext"
    );
}
