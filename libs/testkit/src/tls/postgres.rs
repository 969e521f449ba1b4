//! A PostgreSQL cluster of a test's own that accepts TLS connections only
//! (`hostssl` is the one line of its `pg_hba.conf`) with a SCRAM password,
//! initialised in a temporary directory from the server binaries
//! `scripts/dev` uses (Debian's `/usr/lib/postgresql/<major>/bin`).

use std::path::{Path, PathBuf};
use std::process::Command;

use eventbank_runtime::secret::Secret;

use super::TestCertificates;
use crate::process::free_port;

/// The role tests log in as (the cluster's bootstrap superuser).
pub const POSTGRES_USER: &str = "eventbank";

/// PostgreSQL refuses to run as root; a root test runs it as this user.
const OS_USER: &str = "postgres";

/// A running cluster; stopped, and its directory removed, on drop.
#[derive(Debug)]
pub struct TlsPostgres {
    bin: PathBuf,
    port: u16,
    password: String,
    dir: tempfile::TempDir,
}

impl TlsPostgres {
    /// initdb, then `pg_ctl start` (which waits until the server accepts
    /// connections) with `certs`' server certificate.
    pub fn start(certs: &TestCertificates) -> Self {
        let bin = server_binaries();
        let dir = tempfile::Builder::new()
            .prefix("eventbank-pg-tls-")
            .tempdir()
            .expect("a directory for the private PostgreSQL");
        let postgres = Self {
            bin,
            port: free_port(),
            password: super::random_password(),
            dir,
        };
        postgres.init(certs);
        let log = postgres.dir.path().join("postgres.log");
        let mut start = postgres.as_server_user(&postgres.bin.join("pg_ctl"));
        start
            .arg("-D")
            .arg(postgres.data())
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "start"]);
        postgres.run(start, "pg_ctl start");
        postgres
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn init(&self, certs: &TestCertificates) {
        let pwfile = self.dir.path().join("pwfile");
        std::fs::write(&pwfile, &self.password).expect("write the password file");
        if is_root() {
            chown_to_server_user(self.dir.path());
            chown_to_server_user(&pwfile);
        }
        let mut initdb = self.as_server_user(&self.bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(self.data())
            .args(["-U", POSTGRES_USER, "-E", "UTF8", "--no-locale"])
            .args(["--auth-local=scram-sha-256", "--auth-host=scram-sha-256"])
            .arg(format!("--pwfile={}", pwfile.display()));
        self.run(initdb, "initdb");
        // The server reads its key only if no one else can.
        let key = self.data().join("server.key");
        std::fs::copy(certs.cert_file(), self.data().join("server.pem")).expect("copy cert");
        std::fs::copy(certs.key_file(), &key).expect("copy key");
        set_mode(&key, 0o600);
        if is_root() {
            chown_to_server_user(&self.data().join("server.pem"));
            chown_to_server_user(&key);
        }
        let conf = format!(
            "\n# eventbank testkit: TLS only\n\
             listen_addresses = '127.0.0.1'\n\
             port = {port}\n\
             unix_socket_directories = ''\n\
             max_connections = 40\n\
             fsync = off\n\
             ssl = on\n\
             ssl_cert_file = 'server.pem'\n\
             ssl_key_file = 'server.key'\n\
             password_encryption = 'scram-sha-256'\n",
            port = self.port
        );
        append(&self.data().join("postgresql.conf"), &conf);
        // No `host` line: a connection without TLS is refused whatever it sends.
        std::fs::write(
            self.data().join("pg_hba.conf"),
            "hostssl all all 127.0.0.1/32 scram-sha-256\n",
        )
        .expect("write pg_hba.conf");
    }

    /// `postgres://eventbank@127.0.0.1:{port}/postgres`: the password is not
    /// in it (see [`password`](Self::password)).
    pub fn url(&self) -> String {
        format!(
            "postgres://{POSTGRES_USER}@127.0.0.1:{}/postgres",
            self.port
        )
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn password(&self) -> Secret {
        Secret::new(self.password.clone())
    }

    fn as_server_user(&self, program: &Path) -> Command {
        if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", OS_USER, "--"]).arg(program);
            // runuser keeps the working directory, which the server user
            // may not be allowed to enter.
            command.current_dir("/");
            command
        } else {
            Command::new(program)
        }
    }

    fn run(&self, mut command: Command, what: &str) {
        let output = command
            .output()
            .unwrap_or_else(|err| panic!("run {what}: {err}"));
        assert!(
            output.status.success(),
            "{what} failed ({}): {}{}; server log: {}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
        );
    }
}

impl Drop for TlsPostgres {
    fn drop(&mut self) {
        let mut stop = self.as_server_user(&self.bin.join("pg_ctl"));
        stop.arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "stop"]);
        let _ = stop.output();
    }
}

/// The highest installed major version's `bin` directory.
fn server_binaries() -> PathBuf {
    let mut candidates: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((major, bin))
        })
        .collect();
    candidates.sort();
    candidates.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!("no PostgreSQL server binaries under /usr/lib/postgresql: run `scripts/dev up`, which installs them")
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| out.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

fn chown_to_server_user(path: &Path) {
    let status = Command::new("chown")
        .arg(OS_USER)
        .arg(path)
        .status()
        .expect("run chown");
    assert!(status.success(), "chown {OS_USER} {}", path.display());
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open postgresql.conf");
    file.write_all(text.as_bytes())
        .expect("append to postgresql.conf");
}
