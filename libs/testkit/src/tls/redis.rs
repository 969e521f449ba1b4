//! A Redis of a test's own that speaks TLS only (`--port 0`) and lets in one
//! ACL user with a password: the default user is switched off.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use eventbank_runtime::secret::Secret;

use super::TestCertificates;
use crate::process::free_port;

/// The ACL user every client logs in as.
pub const REDIS_USER: &str = "eventbank";

/// A running `redis-server`; killed, and its directory removed, on drop.
#[derive(Debug)]
pub struct TlsRedis {
    process: Child,
    port: u16,
    password: String,
    dir: tempfile::TempDir,
}

impl TlsRedis {
    /// Starts `redis-server` with `certs`' server certificate on a free port
    /// and waits until it accepts connections.
    pub fn start(certs: &TestCertificates) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("eventbank-redis-tls-")
            .tempdir()
            .expect("a directory for the private Redis");
        let port = free_port();
        let password = super::random_password();
        let log = std::fs::File::create(dir.path().join("redis.log")).expect("redis.log");
        let path = |path: PathBuf| path.display().to_string();
        let process = Command::new("redis-server")
            .args(["--port", "0", "--bind", "127.0.0.1"])
            .args(["--tls-port", &port.to_string()])
            .args(["--tls-cert-file", &path(certs.cert_file())])
            .args(["--tls-key-file", &path(certs.key_file())])
            .args(["--tls-ca-cert-file", &path(certs.ca_file())])
            // Clients prove who they are with their password, not a certificate.
            .args(["--tls-auth-clients", "no"])
            .args(["--user", "default", "off"])
            .args(["--user", REDIS_USER, "on", &format!(">{password}")])
            .args(["~*", "&*", "+@all"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("start redis-server (is it installed? scripts/dev installs it)");
        let mut redis = Self {
            process,
            port,
            password,
            dir,
        };
        redis.wait_until_listening();
        redis
    }

    fn wait_until_listening(&mut self) {
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(status)) = self.process.try_wait() {
                panic!("redis-server exited with {status}: {}", self.log());
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "redis-server did not listen within 30 s: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("redis.log")).unwrap_or_default()
    }

    /// `rediss://127.0.0.1:{port}`: no credentials in it; they are
    /// [`REDIS_USER`] and [`password`](Self::password).
    pub fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn password(&self) -> Secret {
        Secret::new(self.password.clone())
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
