//! Per-test names (topic prefix, groups, transactional ids, Redis prefix,
//! database schema), so tests share the infrastructure without sharing data.

use uuid::Uuid;

/// Names that keep one test's data apart from every other test's, derived from
/// one random run id so a failing test's leftovers are easy to find.
#[derive(Debug, Clone)]
pub struct Isolation {
    pub run_id: String,
}

impl Isolation {
    pub fn new(test_name: &str) -> Self {
        let short = Uuid::new_v4().simple().to_string();
        let label: String = test_name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .take(24)
            .collect();
        Self {
            run_id: format!("t{}-{label}", &short[..10]),
        }
    }

    /// Kafka topic prefix (ends with `.`).
    pub fn topic_prefix(&self) -> String {
        format!("{}.", self.run_id)
    }

    pub fn consumer_group(&self, role: &str) -> String {
        format!("{}-{role}", self.run_id)
    }

    /// Redis key prefix (ends with `:`).
    pub fn redis_prefix(&self) -> String {
        format!("{}:", self.run_id)
    }

    /// A PostgreSQL schema name (lowercase, underscores; at most 63 bytes).
    pub fn pg_schema(&self) -> String {
        self.run_id.replace('-', "_").chars().take(63).collect()
    }
}
