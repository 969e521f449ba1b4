//! A second workload beside the test's own clients: `eventbank load
//! --verify`, the CLI a newcomer runs, driven through the same faults
//! against the other API instance. It keeps its own ledger of acknowledged
//! commands, asks again (with the same key) about every command whose
//! answer a fault swallowed, and at the end checks the bank's invariants on
//! its accounts: money conserved, every transfer ended, balances, versions,
//! history lengths, the audit trail. Its exit code and report are asserted
//! here; its accounts are known to the test's own checks (not strays).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use eventbank_testkit::process::service_binary;
use serde_json::Value;

use super::instance::Instance;

/// The running `eventbank load` (killed if the test ends before it does).
pub(super) struct CliLoad(Option<Child>);

impl Drop for CliLoad {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl CliLoad {
    /// Starts it for `duration` against `account-command-1` (the test's
    /// clients use both instances; the load shares its faults).
    pub(super) fn start(
        services: &BTreeMap<&'static str, Instance>,
        duration: Duration,
        logs: &Path,
    ) -> Self {
        let base = |name: &str| services[name].base();
        let stderr = std::fs::File::create(logs.join("cli-load.stderr")).expect("cli log");
        let child = Command::new(service_binary("eventbank"))
            .args([
                "load",
                "--json",
                "--accounts",
                "4",
                "--concurrency",
                "2",
                "--rate",
                "20",
                "--duration",
                &format!("{}s", duration.as_secs()),
                "--verify",
                "--verify-timeout",
                "240s",
            ])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("XDG_CONFIG_HOME", logs.join("cli-config"))
            .env("XDG_STATE_HOME", logs.join("cli-state"))
            .env("EVENTBANK_ACCOUNT_COMMAND_URL", base("account-command-1"))
            .env("EVENTBANK_BALANCE_PROJECTOR_URL", base("balance-projector"))
            .env("EVENTBANK_TRANSFER_SAGA_URL", base("transfer-saga-1"))
            .env("EVENTBANK_AUDIT_LOG_URL", base("audit-log"))
            .env("EVENTBANK_TOKEN", eventbank_testkit::auth::TOKEN)
            .env("EVENTBANK_TIMEOUT_SECS", "30")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .expect("start eventbank load");
        Self(Some(child))
    }

    /// Waits for it, asserts its verification passed, and returns the
    /// accounts it opened.
    pub(super) async fn finish(mut self) -> Vec<String> {
        let child = self.0.take().expect("running");
        // Its verification waits up to its --verify-timeout for the bank.
        let output = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .expect("waiting for eventbank load")
            .expect("eventbank load ran");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|err| {
            panic!("eventbank load --json printed no JSON ({err}): {stdout}")
        });
        assert_eq!(
            output.status.code(),
            Some(0),
            "eventbank load --verify failed: {report:#}"
        );
        assert_eq!(report["verify"]["ok"], true, "{report:#}");
        assert!(
            report["ok"].as_u64().unwrap_or(0) > 0,
            "nothing acknowledged: {report}"
        );
        eprintln!(
            "[faults] eventbank load: {} ops ({} ok, {} rejected, errors {}), invariants verified",
            report["ops"], report["ok"], report["rejected"], report["errors"]
        );
        report["account_ids"]
            .as_array()
            .expect("account_ids")
            .iter()
            .map(|id| id.as_str().expect("an id").to_owned())
            .collect()
    }
}
