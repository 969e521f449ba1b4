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
    let stores = [
        (
            "balance-projector",
            [
                ("EVENTBANK_REDIS__URL", env.redis_url.clone()),
                ("EVENTBANK_REDIS__KEY_PREFIX", isolation.redis_prefix()),
            ],
        ),
        (
            "audit-log",
            [
                ("EVENTBANK_POSTGRES__URL", env.postgres_url.clone()),
                ("EVENTBANK_POSTGRES__SCHEMA", isolation.pg_schema()),
            ],
        ),
    ];
    for (name, store) in stores {
        services.insert(name, Instance::new(name, name, kafka, logs, &store));
    }
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
