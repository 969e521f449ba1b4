//! The system as deployed for the test: two instances each of account-command
//! and the saga, one projector, one audit log.

use std::collections::BTreeMap;
use std::path::Path;

use eventbank_runtime::kafka::KafkaSettings;
use eventbank_testkit::{Isolation, TestEnv};

use super::instance::Instance;

/// Every instance, configured but not started, by name.
pub(super) fn configure(
    kafka: &KafkaSettings,
    logs: &Path,
    isolation: &Isolation,
) -> BTreeMap<&'static str, Instance> {
    let env = TestEnv::get();
    let saga_timing = [
        ("EVENTBANK_SAGA__RETRY_AFTER_MS", "2000".to_owned()),
        ("EVENTBANK_SAGA__CREDIT_DEADLINE_MS", "20000".to_owned()),
    ];
    let mut services: BTreeMap<&str, Instance> = BTreeMap::new();
    for name in ["account-command-0", "account-command-1"] {
        services.insert(
            name,
            Instance::new("account-command", name, kafka, logs, &[]),
        );
    }
    for name in ["transfer-saga-0", "transfer-saga-1"] {
        services.insert(
            name,
            Instance::new("transfer-saga", name, kafka, logs, &saga_timing),
        );
    }
    services.insert(
        "balance-projector",
        Instance::new(
            "balance-projector",
            "balance-projector",
            kafka,
            logs,
            &[
                ("EVENTBANK_REDIS__URL", env.redis_url.clone()),
                ("EVENTBANK_REDIS__KEY_PREFIX", isolation.redis_prefix()),
            ],
        ),
    );
    services.insert(
        "audit-log",
        Instance::new(
            "audit-log",
            "audit-log",
            kafka,
            logs,
            &[
                ("EVENTBANK_POSTGRES__URL", env.postgres_url.clone()),
                ("EVENTBANK_POSTGRES__SCHEMA", isolation.pg_schema()),
            ],
        ),
    );
    services
}

/// Starts every instance and waits until each answers.
pub(super) async fn start_all(services: &mut BTreeMap<&'static str, Instance>) {
    // account-command first: it creates the topics the others wait for.
    services.get_mut("account-command-0").unwrap().start();
    services["account-command-0"].healthy().await;
    for instance in services.values_mut() {
        if instance.process.is_none() {
            instance.start();
        }
    }
    for instance in services.values() {
        instance.healthy().await;
    }
}
