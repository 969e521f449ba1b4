//! The system every test talks to and a runner for the binary.
//!
//! The services run on a runtime of their own in a background thread that
//! lives as long as the test process, so every test (a plain `#[test]`
//! running the binary as a child process) shares one started system.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use eventbank_testkit::{InProcess, Isolation, TestEnv, local_http};
use serde_json::Value;

/// The four services' base URLs.
#[derive(Debug, Clone)]
pub struct Urls {
    pub account_command: String,
    pub balance_projector: String,
    pub transfer_saga: String,
    pub audit_log: String,
}

/// Starts the system once and returns where it listens.
pub fn system() -> &'static Urls {
    static URLS: OnceLock<Urls> = OnceLock::new();
    URLS.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("runtime for the services");
            runtime.block_on(async move {
                let urls = start().await;
                sender.send(urls).expect("send urls");
                // Serve until the test process exits.
                std::future::pending::<()>().await;
            });
        });
        receiver.recv().expect("the system started")
    })
}

async fn start() -> Urls {
    let env = TestEnv::get();
    let isolation = Isolation::new("cli");
    let kafka = env.kafka_settings(&isolation.topic_prefix());

    let api = InProcess::<account_command::App>::start(account_command::Settings {
        instance: format!("{}-account-command", isolation.run_id),
        http: local_http(),
        auth: eventbank_testkit::auth::settings(),
        kafka: kafka.clone(),
        ..account_command::Settings::default()
    })
    .await;

    let mut projector = balance_projector::Settings {
        instance: format!("{}-projector", isolation.run_id),
        http: local_http(),
        auth: eventbank_testkit::auth::settings(),
        kafka: kafka.clone(),
        ..balance_projector::Settings::default()
    };
    projector.redis.url = env.redis_url.clone();
    projector.redis.key_prefix = isolation.redis_prefix();
    let projector = InProcess::<balance_projector::App>::start(projector).await;

    let saga = InProcess::<transfer_saga::App>::start(transfer_saga::Settings {
        instance: format!("{}-saga", isolation.run_id),
        http: local_http(),
        auth: eventbank_testkit::auth::settings(),
        kafka: kafka.clone(),
        ..transfer_saga::Settings::default()
    })
    .await;

    let mut audit = audit_log::Settings {
        instance: format!("{}-audit", isolation.run_id),
        http: local_http(),
        auth: eventbank_testkit::auth::settings(),
        kafka,
        ..audit_log::Settings::default()
    };
    audit.postgres.url = env.postgres_url.clone();
    audit.postgres.schema = isolation.pg_schema();
    let audit = InProcess::<audit_log::App>::start(audit).await;

    api.wait_ready().await;
    projector.wait_ready().await;
    saga.wait_ready().await;
    audit.wait_ready().await;
    let urls = Urls {
        account_command: api.base_url(),
        balance_projector: projector.base_url(),
        transfer_saga: saga.base_url(),
        audit_log: audit.base_url(),
    };
    // Never stopped: they serve every test until the process exits.
    std::mem::forget((api, projector, saga, audit));
    urls
}

/// A finished run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout as JSON (panics with both streams if it is not).
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|err| panic!("stdout is not JSON ({err}): {self:?}"))
    }

    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert_eq!(self.code, 0, "{self:?}");
        self
    }

    /// Asserts exit `code` and one error sentence on stderr containing `needle`.
    #[track_caller]
    pub fn fails(&self, code: i32, needle: &str) -> &Self {
        assert_eq!(self.code, code, "{self:?}");
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}: {self:?}"
        );
        assert!(self.stderr.starts_with("error: "), "{self:?}");
        self
    }
}

fn command(urls: Option<&Urls>, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_eventbank"));
    // Nothing from the developer's shell or config directory.
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("eventbank-cli-test-no-config"),
        )
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("eventbank-cli-test-state"),
        )
        .args(args);
    if let Some(urls) = urls {
        command
            .env("EVENTBANK_ACCOUNT_COMMAND_URL", &urls.account_command)
            .env("EVENTBANK_BALANCE_PROJECTOR_URL", &urls.balance_projector)
            .env("EVENTBANK_TRANSFER_SAGA_URL", &urls.transfer_saga)
            .env("EVENTBANK_AUDIT_LOG_URL", &urls.audit_log)
            .env("EVENTBANK_TIMEOUT_SECS", "120")
            .env("EVENTBANK_TOKEN", eventbank_testkit::auth::TOKEN);
    }
    command
}

fn finish(output: Output) -> Run {
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `eventbank ARGS` against the system.
pub fn eventbank(args: &[&str]) -> Run {
    let output = command(Some(system()), args)
        .output()
        .expect("run eventbank");
    finish(output)
}

/// Runs `eventbank ARGS` against the system with `token` instead of the
/// test token (none if `None`).
pub fn eventbank_as(token: Option<&str>, args: &[&str]) -> Run {
    let mut command = command(Some(system()), args);
    command.env_remove("EVENTBANK_TOKEN");
    if let Some(token) = token {
        command.env("EVENTBANK_TOKEN", token);
    }
    finish(command.output().expect("run eventbank"))
}

/// Runs `eventbank ARGS` with no system (URLs from `args` or defaults).
pub fn eventbank_alone(args: &[&str]) -> Run {
    finish(command(None, args).output().expect("run eventbank"))
}

/// Runs `eventbank ARGS` with `input` on its stdin (not a terminal).
pub fn eventbank_with_stdin(args: &[&str], input: &str) -> Run {
    let mut child = command(Some(system()), args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn eventbank");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    finish(child.wait_with_output().expect("eventbank output"))
}

/// Opens an account for `holder` and returns its id.
pub fn open(holder: &str) -> String {
    let run = eventbank(&["--json", "account", "open", holder]);
    run.ok();
    run.json()["account_id"]
        .as_str()
        .expect("account_id")
        .to_owned()
}

/// Asserts every one of `fields` is present in `value`.
#[track_caller]
pub fn has_fields(value: &Value, fields: &[&str]) {
    for field in fields {
        assert!(value.get(*field).is_some(), "no field {field:?} in {value}");
    }
}

/// `account show ID --json` once the view has reached `version` (asked
/// again while the projector's bounded wait ends short of it).
pub fn shown_at(account: &str, version: u64) -> Value {
    let started = std::time::Instant::now();
    loop {
        let run = eventbank(&[
            "--json",
            "account",
            "show",
            account,
            "--min-version",
            &version.to_string(),
        ]);
        run.ok();
        let view = run.json();
        if view["version"].as_u64().is_some_and(|v| v >= version) {
            return view;
        }
        assert!(
            started.elapsed().as_secs() < 120,
            "{account} never reached version {version}: {view}"
        );
    }
}
