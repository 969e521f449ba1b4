//! Configuration of audit-log: defaults here, then the optional TOML file, then
//! `EVENTBANK_*` environment variables.

use std::path::PathBuf;

use eventbank_runtime::secret::Secret;
use eventbank_runtime::service::CommonSettings;

use crate::db::SslMode;
use eventbank_runtime::{ConfigError, Validate, checks};

/// Default HTTP port of audit-log (DESIGN.md).
pub const DEFAULT_PORT: u16 = 8083;

eventbank_runtime::service_settings! {
    pub struct Settings on port DEFAULT_PORT;
    pub postgres: PostgresSettings,
    pub audit: AuditSettings,
}

impl Validate for Settings {
    fn validate(&self) -> Result<(), ConfigError> {
        self.validate_common()?;
        self.postgres.validate_connection()?;
        if !is_plain_identifier(&self.postgres.schema) {
            return Err(ConfigError::invalid(
                "postgres.schema",
                "must be a lowercase SQL identifier: a-z or _ first, then a-z, 0-9 or _, \
                 at most 63 bytes",
            ));
        }
        if let Some(role) = &self.postgres.app_role
            && !is_plain_identifier(role)
        {
            return Err(ConfigError::invalid(
                "postgres.app_role",
                "must be a lowercase SQL identifier (a-z, 0-9, _; at most 63 bytes)",
            ));
        }
        checks::non_empty("audit.consumer_group", &self.audit.consumer_group)?;
        checks::at_least(
            "audit.chain_extent_interval_ms",
            self.audit.chain_extent_interval_ms,
            100,
        )?;
        checks::at_least("audit.max_batch", self.audit.max_batch, 1)
    }
}

impl PostgresSettings {
    fn validate_connection(&self) -> Result<(), ConfigError> {
        checks::url_scheme("postgres.url", &self.url, &["postgres://", "postgresql://"])?;
        // tokio-postgres knows no verify-* mode: one place says how TLS is
        // used, and it is the setting.
        if self.url.contains("sslmode=") {
            return Err(ConfigError::invalid(
                "postgres.url",
                "must not set sslmode: use postgres.sslmode (disable, prefer, require, \
                 verify-ca, verify-full)",
            ));
        }
        if let Some(ca_file) = &self.ca_file {
            if self.sslmode == SslMode::Disable {
                return Err(ConfigError::invalid(
                    "postgres.ca_file",
                    "is set but postgres.sslmode is disable",
                ));
            }
            checks::readable_file("postgres.ca_file", ca_file)?;
        }
        Ok(())
    }
}

/// Schema and role names are spliced into SQL (DDL cannot take them as bind
/// parameters), so only names that need no quoting are accepted.
fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    name.len() <= 63
        && (first.is_ascii_lowercase() || first == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

eventbank_runtime::settings_section! {
    /// Where the audit trail lives.
    pub struct PostgresSettings {
        /// Connection URL, without `sslmode` (that is `sslmode` below). The
        /// role needs to own the schema the first time (migrations);
        /// afterwards INSERT/SELECT on the audit table is enough.
        pub url: String = "postgres://eventbank@127.0.0.1:5432/eventbank".to_owned(),
        /// The role's password, kept out of the URL (which may sit in a
        /// ConfigMap); wins over one in the URL.
        pub password: Option<Secret> = None,
        /// libpq's modes: `disable`, `prefer`, `require`, `verify-ca`,
        /// `verify-full` (use this one in production: see `db::tls`).
        pub sslmode: SslMode = SslMode::Disable,
        /// PEM file of the CA that signed the server's certificate; absent:
        /// the system's trust store.
        pub ca_file: Option<PathBuf> = None,
        /// Schema holding the audit tables; tests use one schema each.
        pub schema: String = "audit".to_owned(),
        /// A role the migrations grant the service's minimal privileges to
        /// (`USAGE` on the schema, `SELECT, INSERT` on the audit table, `SELECT,
        /// INSERT, UPDATE` on the stream heads and stored offsets). Run the
        /// service as that role, not as the schema owner: an owner could disable
        /// the append-only trigger.
        pub app_role: Option<String> = None,
    }
}

eventbank_runtime::settings_section! {
    /// How the audit consumer reads Kafka.
    pub struct AuditSettings {
        /// Consumer group (the Kafka topic prefix is prepended). Only for
        /// partition assignment: offsets live in PostgreSQL, never in Kafka.
        pub consumer_group: String = "eventbank-audit-log".to_owned(),
        /// Most records written in one database transaction.
        pub max_batch: usize = 500,
        /// How long a batch waits for more records after its first one.
        pub max_batch_wait_ms: u64 = 20,
        /// How often partition lag is measured for `/metrics`.
        pub lag_interval_ms: u64 = 1_000,
        /// Join the group as a static member named after the instance: a
        /// restarted instance resumes its partitions at once instead of waiting
        /// out its predecessor's session. The price: partitions of an instance
        /// gone for good move only after its session times out.
        pub static_membership: bool = true,
        pub chain_extent_interval_ms: u64 = 15_000,
        pub verify_interval_secs: u64 = 3_600,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_nonsense_does_not() {
        let settings = Settings::default();
        settings.validate().expect("defaults validate");
        assert_eq!(settings.http.bind.port(), DEFAULT_PORT);

        let mut bad = Settings::default();
        bad.postgres.url = "mysql://nope".into();
        assert!(bad.validate().is_err());

        for schema in [
            "",
            "Audit",
            "a-b",
            "1abc",
            "a;drop table x",
            &"a".repeat(64),
        ] {
            let mut bad = Settings::default();
            bad.postgres.schema = schema.to_owned();
            assert!(bad.validate().is_err(), "{schema:?} accepted");
        }
        let mut good = Settings::default();
        good.postgres.schema = "t0123_audit".into();
        good.postgres.app_role = Some("audit_writer".into());
        good.validate().expect("plain names validate");
        good.postgres.app_role = Some("x\"y".into());
        assert!(good.validate().is_err());

        let mut bad = Settings::default();
        bad.audit.max_batch = 0;
        assert!(bad.validate().is_err());
    }

    #[test]
    fn tls_settings_are_checked_and_the_password_is_masked() {
        let mut bad = Settings::default();
        bad.postgres.url = "postgres://bank@db/bank?sslmode=require".into();
        let err = bad.validate().expect_err("sslmode in the URL");
        assert!(err.to_string().contains("postgres.sslmode"), "{err}");
        let mut bad = Settings::default();
        bad.postgres.ca_file = Some("/nonexistent/ca.pem".into());
        assert!(bad.validate().is_err(), "a CA file with sslmode disable");
        bad.postgres.sslmode = SslMode::VerifyFull;
        let err = bad.validate().expect_err("an unreadable CA file");
        assert!(err.to_string().contains("cannot read"), "{err}");

        let mode: SslMode = serde_json::from_str("\"verify-full\"").expect("libpq spelling");
        assert_eq!(mode, SslMode::VerifyFull);
        let mut settings = Settings::default();
        settings.postgres.url = "postgres://bank:in-url-secret@db/bank".into();
        settings.postgres.password = Some(Secret::new("field-secret"));
        settings.postgres.sslmode = SslMode::VerifyFull;
        let shown = eventbank_runtime::config::redacted(&settings).to_string();
        assert!(!shown.contains("in-url-secret"), "{shown}");
        assert!(!shown.contains("field-secret"), "{shown}");
        assert!(shown.contains("\"verify-full\""), "{shown}");
    }
}
