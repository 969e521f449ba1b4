//! Readiness: the named checks (connected, caught up, partitions restored)
//! that must all pass before `/readyz` lets traffic reach an instance.

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

use serde::Serialize;

/// What `/readyz` reports: every registered check must be ready (connected and,
/// for consumers, caught up) before traffic is routed to the instance.
#[derive(Debug, Clone, Default)]
pub struct Readiness {
    checks: Arc<RwLock<BTreeMap<String, CheckState>>>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct CheckState {
    pub ready: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ReadinessReport {
    pub ready: bool,
    pub checks: BTreeMap<String, CheckState>,
}

/// One named condition; starts not ready.
#[derive(Debug, Clone)]
pub struct ReadinessCheck {
    name: String,
    checks: Arc<RwLock<BTreeMap<String, CheckState>>>,
}

impl Readiness {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register(&self, name: impl Into<String>) -> ReadinessCheck {
        let name = name.into();
        self.checks
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                name.clone(),
                CheckState {
                    ready: false,
                    detail: Some("starting".to_owned()),
                },
            );
        ReadinessCheck {
            name,
            checks: Arc::clone(&self.checks),
        }
    }

    pub fn report(&self) -> ReadinessReport {
        let checks = self
            .checks
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        ReadinessReport {
            ready: checks.values().all(|check| check.ready),
            checks,
        }
    }
}

impl ReadinessCheck {
    pub fn set_ready(&self) {
        self.set(CheckState {
            ready: true,
            detail: None,
        });
    }

    pub fn set_not_ready(&self, detail: impl Into<String>) {
        self.set(CheckState {
            ready: false,
            detail: Some(detail.into()),
        });
    }

    fn set(&self, state: CheckState) {
        self.checks
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(self.name.clone(), state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_only_when_every_check_is_ready() {
        let readiness = Readiness::new();
        assert!(readiness.report().ready, "no checks: nothing to wait for");
        let kafka = readiness.register("kafka");
        let redis = readiness.register("redis");
        assert!(!readiness.report().ready);
        kafka.set_ready();
        assert!(!readiness.report().ready);
        redis.set_ready();
        assert!(readiness.report().ready);
        kafka.set_not_ready("broker unreachable");
        let report = readiness.report();
        assert!(!report.ready);
        assert_eq!(
            report.checks["kafka"].detail.as_deref(),
            Some("broker unreachable")
        );
    }
}
