//! The audit store on a PostgreSQL that accepts TLS connections only
//! (`hostssl` with a SCRAM password): `verify-full` with the CA connects; a
//! wrong password, an untrusted CA, a wrong host name or no TLS is refused.

use audit_log::PostgresSettings;
use audit_log::db::{Db, SslMode};
use eventbank_runtime::error_chain::Chain;
use eventbank_runtime::secret::Secret;
use eventbank_testkit::tls::{TestCertificates, TlsPostgres};

async fn refused(settings: &PostgresSettings) -> String {
    let db = Db::new(settings).expect("settings make a Db");
    match db.connect().await {
        Ok(_) => panic!("connected with {settings:?}"),
        Err(err) => Chain(&err).to_string(),
    }
}

#[tokio::test]
async fn verify_full_connects_and_anything_less_trusted_is_refused() {
    let certs = TestCertificates::generate();
    let postgres = TlsPostgres::start(&certs);
    let settings = PostgresSettings {
        url: postgres.url(),
        password: Some(postgres.password()),
        sslmode: SslMode::VerifyFull,
        ca_file: Some(certs.ca_file()),
        schema: "public".to_owned(),
        ..PostgresSettings::default()
    };
    let db = Db::new(&settings).expect("settings make a Db");
    let client = db.connect().await.expect("verify-full connects");
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .expect("ask the server");
    assert!(row.get::<_, bool>(0), "the connection is encrypted");

    let wrong_password = PostgresSettings {
        password: Some(Secret::new("not-the-password")),
        ..settings.clone()
    };
    let err = refused(&wrong_password).await;
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(!err.contains("not-the-password"), "{err}");

    let untrusted = PostgresSettings {
        ca_file: Some(certs.other_ca_file()),
        ..settings.clone()
    };
    let err = refused(&untrusted).await;
    assert!(err.to_lowercase().contains("certificate"), "{err}");

    // The same server under a name its certificate does not have.
    let wrong_host = PostgresSettings {
        url: format!(
            "{}?hostaddr=127.0.0.1",
            postgres.url().replace("127.0.0.1", "db.example")
        ),
        ..settings.clone()
    };
    let err = refused(&wrong_host).await;
    assert!(err.to_lowercase().contains("certificate"), "{err}");

    let plaintext = PostgresSettings {
        sslmode: SslMode::Disable,
        ca_file: None,
        ..settings
    };
    let err = refused(&plaintext).await;
    assert!(err.contains("no encryption"), "{err}");
}
