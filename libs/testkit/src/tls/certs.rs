//! A throwaway certificate authority and one server certificate it signed,
//! generated when a test starts (no key is ever checked in) and valid for
//! `localhost` and `127.0.0.1`, where every private server listens.

use std::path::{Path, PathBuf};

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
};
use openssl::x509::{X509, X509Builder, X509NameBuilder};

/// PEM files in a temporary directory, removed on drop.
#[derive(Debug)]
pub struct TestCertificates {
    dir: tempfile::TempDir,
}

impl TestCertificates {
    /// A new CA and a server certificate (P-256 keys, one day) in a new
    /// temporary directory. The directory and files are readable by all:
    /// PostgreSQL runs as another user and takes copies of its own.
    pub fn generate() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("eventbank-tls-")
            .tempdir()
            .expect("a directory for the test certificates");
        let (ca_key, ca) = certificate("eventbank test CA", None);
        let (server_key, server) = certificate("localhost", Some((&ca_key, &ca)));
        let write = |name: &str, pem: Vec<u8>| {
            std::fs::write(dir.path().join(name), pem).expect("write a PEM file");
        };
        write("ca.pem", ca.to_pem().expect("CA as PEM"));
        write("server.pem", server.to_pem().expect("certificate as PEM"));
        // PKCS#8: the one private key format Kafka's PEM key store reads.
        let key = server_key.private_key_to_pem_pkcs8().expect("key as PEM");
        write("server.key", key.clone());
        // Kafka's PEM key store: the key, then the chain.
        let mut keystore = key;
        keystore.extend(server.to_pem().expect("certificate as PEM"));
        keystore.extend(ca.to_pem().expect("CA as PEM"));
        write("keystore.pem", keystore);
        let other = other_ca();
        write("other-ca.pem", other.to_pem().expect("CA as PEM"));
        set_mode(dir.path(), 0o755);
        Self { dir }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The CA clients must trust.
    pub fn ca_file(&self) -> PathBuf {
        self.dir().join("ca.pem")
    }

    /// A CA that signed nothing here: a client trusting only it must refuse
    /// the servers.
    pub fn other_ca_file(&self) -> PathBuf {
        self.dir().join("other-ca.pem")
    }

    pub fn cert_file(&self) -> PathBuf {
        self.dir().join("server.pem")
    }

    pub fn key_file(&self) -> PathBuf {
        self.dir().join("server.key")
    }

    /// Private key, server certificate and CA in one PEM file.
    pub fn keystore_file(&self) -> PathBuf {
        self.dir().join("keystore.pem")
    }
}

fn other_ca() -> X509 {
    certificate("eventbank unrelated CA", None).1
}

/// A certificate for `name`: a self-signed CA when `issuer` is `None`,
/// else a server certificate for `localhost`/`127.0.0.1` signed by it.
fn certificate(name: &str, issuer: Option<(&PKey<Private>, &X509)>) -> (PKey<Private>, X509) {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("P-256");
    let key = PKey::from_ec_key(EcKey::generate(&group).expect("EC key")).expect("key");
    let mut subject = X509NameBuilder::new().expect("name");
    subject
        .append_entry_by_nid(Nid::COMMONNAME, name)
        .expect("common name");
    let subject = subject.build();
    let mut builder = X509Builder::new().expect("certificate builder");
    builder.set_version(2).expect("X.509 v3");
    let mut serial = BigNum::new().expect("serial");
    serial
        .rand(120, MsbOption::MAYBE_ZERO, false)
        .expect("random serial");
    builder
        .set_serial_number(&serial.to_asn1_integer().expect("serial"))
        .expect("serial");
    builder.set_subject_name(&subject).expect("subject");
    builder.set_pubkey(&key).expect("public key");
    builder
        .set_not_before(&Asn1Time::days_from_now(0).expect("now"))
        .expect("not before");
    builder
        .set_not_after(&Asn1Time::days_from_now(1).expect("tomorrow"))
        .expect("not after");
    match issuer {
        None => {
            builder.set_issuer_name(&subject).expect("issuer");
            let ca = BasicConstraints::new().critical().ca().build().expect("CA");
            builder.append_extension(ca).expect("basic constraints");
            let usage = KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()
                .expect("key usage");
            builder.append_extension(usage).expect("key usage");
            builder
                .sign(&key, MessageDigest::sha256())
                .expect("self-sign");
        }
        Some((ca_key, ca)) => {
            builder.set_issuer_name(ca.subject_name()).expect("issuer");
            let san = SubjectAlternativeName::new()
                .dns("localhost")
                .ip("127.0.0.1")
                .build(&builder.x509v3_context(Some(ca), None))
                .expect("subject alternative names");
            builder.append_extension(san).expect("SAN");
            let usage = KeyUsage::new()
                .critical()
                .digital_signature()
                .key_agreement()
                .build()
                .expect("key usage");
            builder.append_extension(usage).expect("key usage");
            let server = ExtendedKeyUsage::new()
                .server_auth()
                .build()
                .expect("server auth");
            builder
                .append_extension(server)
                .expect("extended key usage");
            builder.sign(ca_key, MessageDigest::sha256()).expect("sign");
        }
    }
    (key, builder.build())
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .expect("set the certificates' directory mode");
}
