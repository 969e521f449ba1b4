//! A service binary as a child process, so a test can kill it the way a node
//! failure would: SIGKILL, no shutdown hook, no final commit.

use std::process::{Child, Command, Stdio};

use eventbank_runtime::kafka::{KafkaSettings, SecurityProtocol};

/// A running service binary; killed when dropped (a failing test must not
/// leave it behind).
#[derive(Debug)]
pub struct ServiceProcess {
    child: Child,
    name: String,
}

impl ServiceProcess {
    /// Starts `binary` (e.g. `env!("CARGO_BIN_EXE_audit-log")`) with only
    /// `PATH` and `env` in its environment, so nothing from the developer's
    /// shell (an `EVENTBANK_*` left exported) changes what is tested. Logs go
    /// to the test's stderr.
    pub fn spawn<K, V>(binary: &str, name: &str, env: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: AsRef<std::ffi::OsStr>,
        V: AsRef<std::ffi::OsStr>,
    {
        Self::spawn_to(binary, name, env, Stdio::null())
    }

    /// [`spawn`](Self::spawn), with the service's log lines (stdout) and
    /// stderr appended to `log`, for a test that must show why a service
    /// stopped.
    pub fn spawn_logged<K, V>(
        binary: &str,
        name: &str,
        env: impl IntoIterator<Item = (K, V)>,
        log: &std::path::Path,
    ) -> Self
    where
        K: AsRef<std::ffi::OsStr>,
        V: AsRef<std::ffi::OsStr>,
    {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|err| panic!("open {}: {err}", log.display()));
        Self::spawn_to(binary, name, env, Stdio::from(file))
    }

    fn spawn_to<K, V>(
        binary: &str,
        name: &str,
        env: impl IntoIterator<Item = (K, V)>,
        stdout: Stdio,
    ) -> Self
    where
        K: AsRef<std::ffi::OsStr>,
        V: AsRef<std::ffi::OsStr>,
    {
        let child = Command::new(binary)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env)
            .stdout(stdout)
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|err| panic!("spawn {binary}: {err}"));
        Self {
            child,
            name: name.to_owned(),
        }
    }

    /// Starts a service `binary` as `instance` against `kafka`'s cluster and
    /// topics, on an ephemeral HTTP port, accepting the test token, quietly
    /// logging JSON warnings, with `extra` `EVENTBANK_*` variables on top.
    pub fn start(
        binary: &str,
        instance: &str,
        kafka: &KafkaSettings,
        extra: &[(&str, &str)],
    ) -> Self {
        let mut env = kafka_env(kafka);
        env.extend(crate::auth::env());
        env.extend(
            [
                ("EVENTBANK_INSTANCE", instance),
                ("EVENTBANK_HTTP__BIND", "127.0.0.1:0"),
                ("EVENTBANK_TELEMETRY__LOG_FILTER", "warn"),
                ("EVENTBANK_TELEMETRY__LOG_FORMAT", "json"),
            ]
            .iter()
            .chain(extra)
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned())),
        );
        Self::spawn(binary, instance, env)
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: the process gets no chance to commit or abort anything.
    pub fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("reap");
    }

    /// SIGTERM, then waits for a clean exit (status 0).
    pub fn terminate(mut self) {
        self.send_sigterm();
        let exit = self.child.wait().expect("wait");
        assert!(exit.success(), "{} exited with {exit}", self.name);
    }

    /// SIGTERM, then how the process exited (waiting up to `limit`).
    pub async fn stop(mut self, limit: std::time::Duration) -> std::process::ExitStatus {
        self.send_sigterm();
        self.exit_status(limit).await
    }

    fn send_sigterm(&self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("send SIGTERM");
        assert!(status.success(), "kill -TERM {pid} failed");
    }

    /// Waits (polling, up to `limit`) for the process to exit on its own and
    /// returns how it exited; panics if it is still running then.
    pub async fn exit_status(&mut self, limit: std::time::Duration) -> std::process::ExitStatus {
        let started = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                started.elapsed() < limit,
                "{} still running after {limit:?}",
                self.name
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What `service` needs to run on the dev infrastructure under
/// `isolation`, listening on `port`: its cluster, topic prefix and layout,
/// the test tokens, an instance name, and the store of the two services
/// that have one (a service refuses settings it does not have).
pub fn dev_service_env(
    service: &str,
    env: &crate::TestEnv,
    isolation: &crate::Isolation,
    port: u16,
) -> Vec<(String, String)> {
    let mut vars = kafka_env(&env.kafka_settings(&isolation.topic_prefix()));
    vars.extend(crate::auth::env());
    let mut set = |key: &str, value: String| vars.push((key.to_owned(), value));
    set("EVENTBANK_INSTANCE", format!("{service}-0"));
    set("EVENTBANK_HTTP__BIND", format!("127.0.0.1:{port}"));
    match service {
        "balance-projector" => {
            set("EVENTBANK_REDIS__URL", env.redis_url.clone());
            set("EVENTBANK_REDIS__KEY_PREFIX", isolation.redis_prefix());
        }
        "audit-log" => {
            set("EVENTBANK_POSTGRES__URL", env.postgres_url.clone());
            set("EVENTBANK_POSTGRES__SCHEMA", isolation.pg_schema());
        }
        _ => {}
    }
    vars
}

/// The `EVENTBANK_KAFKA__*` variables that point a service at `settings`'
/// cluster, topic prefix and topic layout, and, for a TLS or SASL cluster,
/// its security settings.
pub fn kafka_env(settings: &KafkaSettings) -> Vec<(String, String)> {
    let mut env = vec![
        (
            "EVENTBANK_KAFKA__BOOTSTRAP_SERVERS".to_owned(),
            settings.bootstrap_servers.clone(),
        ),
        (
            "EVENTBANK_KAFKA__TOPIC_PREFIX".to_owned(),
            settings.topic_prefix.clone(),
        ),
        (
            "EVENTBANK_KAFKA__TOPICS__PARTITIONS".to_owned(),
            settings.topics.partitions.to_string(),
        ),
        (
            "EVENTBANK_KAFKA__TOPICS__REPLICATION_FACTOR".to_owned(),
            settings.topics.replication_factor.to_string(),
        ),
    ];
    if let Some(min_isr) = settings.topics.min_insync_replicas {
        env.push((
            "EVENTBANK_KAFKA__TOPICS__MIN_INSYNC_REPLICAS".to_owned(),
            min_isr.to_string(),
        ));
    }
    env.extend(kafka_security_env(settings));
    env
}

fn kafka_security_env(settings: &KafkaSettings) -> Vec<(String, String)> {
    let protocol = settings.security_protocol;
    if protocol == SecurityProtocol::Plaintext {
        return Vec::new();
    }
    let mut env = vec![(
        "SECURITY_PROTOCOL",
        serde_json::to_value(protocol)
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default(),
    )];
    if let Some(ca_file) = &settings.ssl_ca_file {
        env.push(("SSL_CA_FILE", ca_file.display().to_string()));
    }
    if let Some(mechanism) = settings.sasl_mechanism {
        env.push(("SASL_MECHANISM", mechanism.as_kafka().to_owned()));
    }
    if let Some(username) = &settings.sasl_username {
        env.push(("SASL_USERNAME", username.clone()));
    }
    if let Some(password) = &settings.sasl_password {
        env.push(("SASL_PASSWORD", password.expose().to_owned()));
    }
    env.into_iter()
        .map(|(key, value)| (format!("EVENTBANK_KAFKA__{key}"), value))
        .collect()
}

/// A local port nobody listens on right now, for a child process (or a
/// broker) that must be told its port before it starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free local port")
        .port()
}

/// The path of service binary `name`, built next to the running test
/// (`cargo test --workspace` builds every service's binary for its tests).
pub fn service_binary(name: &str) -> String {
    let exe = std::env::current_exe().expect("test executable");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir")
        .to_path_buf();
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the services first (cargo build --bins; the test command builds the workspace)",
        path.display()
    );
    path.display().to_string()
}
