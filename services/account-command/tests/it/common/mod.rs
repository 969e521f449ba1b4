//! Test harness: the real service against the real broker, either in-process
//! (port 0) or as a child process that can be killed with SIGKILL.

use std::time::Duration;

use account_command::{App, Settings};
use eventbank_testkit::process::ServiceProcess;
use eventbank_testkit::{InProcess, Isolation, TestEnv, local_http};

pub const LONG: Duration = Duration::from_secs(90);

/// account-command inside the test process.
pub type Running = InProcess<App>;

/// Settings for one part of one test's bank: its own topics and group.
pub fn settings(isolation: &Isolation, api: bool, processor: bool, instance: &str) -> Settings {
    let mut settings = Settings {
        instance: instance.to_owned(),
        http: local_http(),
        kafka: TestEnv::get().kafka_settings(&isolation.topic_prefix()),
        auth: eventbank_testkit::auth::settings(),
        ..Settings::default()
    };
    settings.api.enabled = api;
    settings.processor.enabled = processor;
    settings.api.result_timeout_ms = 10_000;
    settings
}

/// The processor as a separate OS process, so a test can kill it the way a
/// node failure would: no shutdown hook, no final commit.
pub struct ProcessorProcess;

impl ProcessorProcess {
    pub fn spawn(isolation: &Isolation, instance: &str) -> ServiceProcess {
        Self::spawn_with(isolation, instance, &[])
    }

    /// With extra `EVENTBANK_*` settings.
    pub fn spawn_with(
        isolation: &Isolation,
        instance: &str,
        extra: &[(&str, &str)],
    ) -> ServiceProcess {
        let kafka = TestEnv::get().kafka_settings(&isolation.topic_prefix());
        let mut env = vec![("EVENTBANK_API__ENABLED", "false")];
        env.extend_from_slice(extra);
        ServiceProcess::start(
            env!("CARGO_BIN_EXE_account-command"),
            instance,
            &kafka,
            &env,
        )
    }
}
