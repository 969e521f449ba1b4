//! Where the services are and how to authenticate: built-in defaults (the
//! ports `scripts/dev up` and compose use), then a TOML file, then
//! `EVENTBANK_*` environment variables, then flags — later wins.
//!
//! | setting | env | default |
//! |---|---|---|
//! | `account_command_url` | `EVENTBANK_ACCOUNT_COMMAND_URL` | `http://127.0.0.1:8080` |
//! | `balance_projector_url` | `EVENTBANK_BALANCE_PROJECTOR_URL` | `http://127.0.0.1:8081` |
//! | `transfer_saga_url` | `EVENTBANK_TRANSFER_SAGA_URL` | `http://127.0.0.1:8082` |
//! | `audit_log_url` | `EVENTBANK_AUDIT_LOG_URL` | `http://127.0.0.1:8083` |
//! | `token` | `EVENTBANK_TOKEN` | none |
//! | `timeout_secs` | `EVENTBANK_TIMEOUT_SECS` | 30 |
//!
//! The file is `--config PATH` (`EVENTBANK_CLI_CONFIG`), else
//! `$XDG_CONFIG_HOME/eventbank/cli.toml` (`~/.config/...`) when it exists.
//! Only these keys are read from the environment: a service's own
//! `EVENTBANK_KAFKA__*` settings in the same shell are not the CLI's.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::exit::CliError;

/// The CLI's settings once every source is merged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub account_command_url: String,
    pub balance_projector_url: String,
    pub transfer_saga_url: String,
    pub audit_log_url: String,
    /// Sent as `Authorization: Bearer <token>` when set.
    pub token: Option<String>,
    /// How long one command may take in all, retries and 202 follow-ups included.
    pub timeout_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            account_command_url: "http://127.0.0.1:8080".to_owned(),
            balance_projector_url: "http://127.0.0.1:8081".to_owned(),
            transfer_saga_url: "http://127.0.0.1:8082".to_owned(),
            audit_log_url: "http://127.0.0.1:8083".to_owned(),
            token: None,
            timeout_secs: 30,
        }
    }
}

/// The keys `EVENTBANK_*` may set (lowercased after the prefix).
const ENV_KEYS: [&str; 6] = [
    "account_command_url",
    "balance_projector_url",
    "transfer_saga_url",
    "audit_log_url",
    "token",
    "timeout_secs",
];

/// Values given as flags; `None` leaves the lower layers' value.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_command_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance_projector_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_saga_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_log_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
}

/// The default config file, if there is one.
pub fn default_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    let path = base.join("eventbank").join("cli.toml");
    path.exists().then_some(path)
}

/// Merges defaults, `file` (which must exist when named explicitly), the
/// environment and `flags`.
pub fn load(file: Option<&Path>, flags: &Overrides) -> Result<Config, CliError> {
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    match file {
        Some(path) if !path.exists() => {
            return Err(CliError::Config(format!(
                "the config file {} does not exist",
                path.display()
            )));
        }
        Some(path) => figment = figment.merge(Toml::file(path)),
        None => {
            if let Some(path) = default_file() {
                figment = figment.merge(Toml::file(path));
            }
        }
    }
    figment = figment
        .merge(Env::prefixed("EVENTBANK_").only(&ENV_KEYS))
        .merge(Serialized::defaults(flags));
    let config: Config = figment
        .extract()
        .map_err(|err| CliError::Config(one_line(&err.to_string())))?;
    for (name, url) in config.urls() {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(CliError::Config(format!(
                "{name}'s URL {url:?} must start with http:// or https://"
            )));
        }
    }
    Ok(config)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Config {
    /// Each service's name and base URL, in the order tables show them.
    pub fn urls(&self) -> [(&'static str, &str); 4] {
        [
            ("account-command", self.account_command_url.as_str()),
            ("balance-projector", self.balance_projector_url.as_str()),
            ("transfer-saga", self.transfer_saga_url.as_str()),
            ("audit-log", self.audit_log_url.as_str()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    // figment's Jail fixes the closure's error type (figment::Error).
    #[allow(clippy::result_large_err)]
    fn flags_beat_env_beat_file_beat_defaults() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "cli.toml",
                "account_command_url = \"http://file:1\"\nbalance_projector_url = \"http://file:2\"\ntimeout_secs = 7\n",
            )?;
            jail.set_env("EVENTBANK_BALANCE_PROJECTOR_URL", "http://env:2");
            jail.set_env("EVENTBANK_TOKEN", "secret");
            // A service's setting in the same shell is not the CLI's.
            jail.set_env("EVENTBANK_KAFKA__TOPIC_PREFIX", "x.");
            let flags = Overrides {
                account_command_url: Some("http://flag:1".into()),
                ..Overrides::default()
            };
            let config = load(Some(Path::new("cli.toml")), &flags).expect("config");
            assert_eq!(config.account_command_url, "http://flag:1");
            assert_eq!(config.balance_projector_url, "http://env:2");
            assert_eq!(config.audit_log_url, "http://127.0.0.1:8083");
            assert_eq!(config.token.as_deref(), Some("secret"));
            assert_eq!(config.timeout_secs, 7);
            Ok(())
        });
    }

    #[test]
    fn a_missing_named_file_or_a_bad_url_is_a_config_error() {
        let missing = load(
            Some(Path::new("/nonexistent/cli.toml")),
            &Overrides::default(),
        );
        assert!(matches!(missing, Err(CliError::Config(_))), "{missing:?}");
        let flags = Overrides {
            audit_log_url: Some("localhost:8083".into()),
            ..Overrides::default()
        };
        let bad = load(None, &flags).expect_err("no scheme");
        assert!(bad.to_string().contains("audit-log"), "{bad}");
    }
}
