//! Layered configuration: built-in defaults → optional TOML file → `EVENTBANK_*`
//! environment variables (`__` separates nesting levels), validated before any
//! connection is opened.
//!
//! `EVENTBANK_KAFKA__BOOTSTRAP_SERVERS=broker:9092` sets `kafka.bootstrap_servers`.
//! The TOML file is named by `EVENTBANK_CONFIG_FILE` (absent → no file; named but
//! missing → error, because a typo in a deployment must not silently fall back to
//! defaults).

use std::path::PathBuf;

use figment::Figment;
use figment::error::Kind;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Environment variable naming the optional TOML file.
pub const CONFIG_FILE_ENV: &str = "EVENTBANK_CONFIG_FILE";
/// Prefix of every configuration environment variable.
pub const ENV_PREFIX: &str = "EVENTBANK_";

/// Keys under `EVENTBANK_` that are not configuration: the config-file pointer,
/// the variables the dev environment and tests use, and `EVENTBANK_TOKEN`, the
/// token a client sends (in the same shell as a service started by hand).
const RESERVED_ENV_KEYS: &[&str] = &["config_file", "test_", "dev_", "token"];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path} named by {CONFIG_FILE_ENV} does not exist")]
    MissingFile { path: PathBuf },
    #[error("configuration could not be read: {0}")]
    Parse(#[from] Box<figment::Error>),
    #[error("invalid configuration: {field}: {reason}")]
    Invalid { field: String, reason: String },
}

impl ConfigError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Settings that can say whether they make sense before anything connects.
pub trait Validate {
    fn validate(&self) -> Result<(), ConfigError>;
}

/// The provider stack without the final extraction; exposed so tests can layer
/// their own values on top.
pub fn figment<T: Serialize + Default>() -> Result<Figment, ConfigError> {
    let mut figment = Figment::from(Serialized::defaults(T::default()));
    if let Some(path) = std::env::var_os(CONFIG_FILE_ENV).map(PathBuf::from) {
        if !path.exists() {
            return Err(ConfigError::MissingFile { path });
        }
        figment = figment.merge(Toml::file(path));
    }
    let setting = |key: &figment::value::UncasedStr| {
        let key = key.as_str().to_ascii_lowercase();
        !RESERVED_ENV_KEYS.iter().any(|reserved| {
            key == *reserved || (reserved.ends_with('_') && key.starts_with(reserved))
        })
    };
    let env = Env::prefixed(ENV_PREFIX)
        .split("__")
        .filter(move |key| setting(key) && !is_verbatim(key.as_str()));
    figment = figment.merge(env);
    // figment reads an environment value as TOML-ish data: `0123` would
    // arrive as the number 123, `true` as a boolean, `[x` as broken syntax.
    // A password is whatever its characters are, so it is taken verbatim.
    let verbatim = Env::prefixed(ENV_PREFIX)
        .split("__")
        .filter(move |key| setting(key) && is_verbatim(key.as_str()));
    for (key, value) in verbatim.iter() {
        figment = figment.merge(Serialized::default(key.as_str(), value));
    }
    Ok(figment)
}

/// Settings whose environment value is text as it stands: passwords and
/// single tokens (`auth.tokens`, a list, is still read as data).
fn is_verbatim(key: &str) -> bool {
    let leaf = key.rsplit('.').next().unwrap_or(key).to_ascii_lowercase();
    leaf.contains("password") || leaf.ends_with("token")
}

/// Loads and validates `T` from defaults, the optional file and the environment.
pub fn load<T>() -> Result<T, ConfigError>
where
    T: Serialize + DeserializeOwned + Default + Validate,
{
    extract(figment::<T>()?)
}

/// Extracts and validates `T` from an already assembled figment.
pub fn extract<T>(figment: Figment) -> Result<T, ConfigError>
where
    T: DeserializeOwned + Validate,
{
    let settings: T = figment.extract().map_err(scrubbed)?;
    settings.validate()?;
    Ok(settings)
}

/// figment's errors quote the value they could not read. Under a key that
/// holds a secret (anything under `auth`, a password, a token) that value is
/// the secret itself, and the error is printed at start: say what was
/// expected instead.
fn scrubbed(error: figment::Error) -> ConfigError {
    let holds_secret = |error: &figment::Error| {
        error.path.iter().any(|part| {
            let part = part.to_ascii_lowercase();
            part == "auth" || SECRET_KEYS.iter().any(|secret| part.contains(secret))
        })
    };
    if !error.clone().into_iter().any(|e| holds_secret(&e)) {
        return ConfigError::Parse(Box::new(error));
    }
    let mut field = None;
    let reasons: Vec<String> = error
        .into_iter()
        .map(|e| {
            if !holds_secret(&e) {
                return e.to_string();
            }
            let path = e.path.join(".");
            let first = field.get_or_insert_with(|| path.clone()) == &path;
            let reason = match &e.kind {
                Kind::InvalidType(_, expected) | Kind::InvalidValue(_, expected) => {
                    format!("invalid value (not shown), expected {expected}")
                }
                Kind::UnknownField(..) | Kind::MissingField(_) | Kind::DuplicateField(_) => {
                    e.kind.to_string()
                }
                _ => "cannot be read (the value is not shown)".to_owned(),
            };
            // The first secret's path is the error's field already.
            if first {
                reason
            } else {
                format!("{path}: {reason}")
            }
        })
        .collect();
    ConfigError::invalid(field.unwrap_or_default(), reasons.join("; "))
}

use crate::secret::MASK;

/// Key fragments that name a secret in a map no type describes.
const SECRET_KEYS: &[&str] = &["password", "secret", "token", "api_key", "private_key"];

/// The effective configuration as JSON with secrets masked. A secret field is
/// a [`Secret`](crate::secret::Secret), which serializes masked whatever its
/// key is called; what is left to mask here is the password part of any
/// `scheme://user:password@host` URL (connection strings are one setting),
/// values of free-form maps under a key naming a secret (librdkafka's raw
/// `kafka.client` overrides can hold `ssl.key.password`), and PEM private keys.
pub fn redacted<T: Serialize>(settings: &T) -> serde_json::Value {
    let mut value = serde_json::to_value(settings).unwrap_or(serde_json::Value::Null);
    redact(&mut value);
    value
}

fn redact(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                let key = key.to_ascii_lowercase();
                if SECRET_KEYS.iter().any(|secret| key.contains(secret)) && !child.is_null() {
                    *child = serde_json::Value::String(MASK.to_owned());
                } else {
                    redact(child);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact),
        serde_json::Value::String(text) => {
            if text.contains("PRIVATE KEY-----") {
                // A PEM key pasted into a setting (librdkafka's `ssl.key.pem`)
                // is a secret whatever its key is called.
                *text = MASK.to_owned();
            } else if let Some(masked) = mask_url_password(text) {
                *text = masked;
            }
        }
        _ => {}
    }
}

/// `redis://:pw@host` → `redis://:***@host`; `None` when there is nothing to mask.
fn mask_url_password(text: &str) -> Option<String> {
    let scheme_end = text.find("://")? + 3;
    let rest = &text[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at = rest[..authority_end].rfind('@')?;
    let userinfo = &rest[..at];
    let colon = userinfo.find(':')?;
    Some(format!(
        "{}{}:{MASK}{}",
        &text[..scheme_end],
        &userinfo[..colon],
        &rest[at..]
    ))
}

#[cfg(test)]
// figment's Jail API returns its large error type by value; not ours to change.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, default)]
    struct Sample {
        name: String,
        port: u16,
        nested: Nested,
    }

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, default)]
    struct Nested {
        url: String,
        sasl_password: Option<crate::secret::Secret>,
        api_tokens: Vec<crate::secret::Secret>,
    }

    impl Default for Sample {
        fn default() -> Self {
            Self {
                name: "default".into(),
                port: 8080,
                nested: Nested::default(),
            }
        }
    }

    impl Default for Nested {
        fn default() -> Self {
            Self {
                url: "redis://127.0.0.1:6379".into(),
                sasl_password: None,
                api_tokens: Vec::new(),
            }
        }
    }

    impl Validate for Sample {
        fn validate(&self) -> Result<(), ConfigError> {
            if self.port == 0 {
                return Err(ConfigError::invalid("port", "must not be 0"));
            }
            Ok(())
        }
    }

    #[test]
    fn layers_defaults_file_and_env_with_double_underscore_nesting() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("svc.toml", "name = \"from-file\"\nport = 9000\n")?;
            jail.set_env(CONFIG_FILE_ENV, "svc.toml");
            jail.set_env("EVENTBANK_PORT", "9100");
            jail.set_env("EVENTBANK_NESTED__URL", "redis://cache:6380");
            jail.set_env("EVENTBANK_TEST_KAFKA", "ignored:1");
            jail.set_env("EVENTBANK_TOKEN", "a client's, ignored");
            let loaded: Sample = load().map_err(|e| e.to_string())?;
            assert_eq!(loaded.name, "from-file");
            assert_eq!(loaded.port, 9100, "env overrides file");
            assert_eq!(loaded.nested.url, "redis://cache:6380");
            Ok(())
        });
    }

    #[test]
    fn named_but_missing_file_is_an_error() {
        figment::Jail::expect_with(|jail| {
            jail.set_env(CONFIG_FILE_ENV, "nope.toml");
            let err = load::<Sample>().expect_err("missing file must fail");
            assert!(matches!(err, ConfigError::MissingFile { .. }), "{err}");
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_validation_failures_are_reported() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("EVENTBANK_PROT", "1");
            let err = load::<Sample>().expect_err("typo must fail");
            assert!(err.to_string().contains("prot"), "{err}");
            Ok(())
        });
        figment::Jail::expect_with(|jail| {
            jail.set_env("EVENTBANK_PORT", "0");
            let err = load::<Sample>().expect_err("port 0 must fail validation");
            assert!(err.to_string().contains("port: must not be 0"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn redaction_masks_secrets_and_url_passwords() {
        let sample = Sample {
            name: "postgres://bank:hunter2@db:5432/bank".into(),
            port: 1,
            nested: Nested {
                url: "redis://:s3cret@cache:6379/0".into(),
                sasl_password: Some("pw".into()),
                api_tokens: Vec::new(),
            },
        };
        let shown = redacted(&sample).to_string();
        assert!(
            !shown.contains("hunter2") && !shown.contains("s3cret"),
            "{shown}"
        );
        assert!(!shown.contains("\"pw\""), "{shown}");
        assert!(
            shown.contains("postgres://bank:***@db:5432/bank"),
            "{shown}"
        );
        assert!(shown.contains("redis://:***@cache:6379/0"), "{shown}");
    }

    #[test]
    fn an_unreadable_secret_is_not_quoted_in_the_error() {
        figment::Jail::expect_with(|jail| {
            // A string where a list is expected: figment would quote it.
            jail.set_env("EVENTBANK_NESTED__API_TOKENS", "hunter2-not-a-list");
            let err = load::<Sample>().expect_err("not a list").to_string();
            assert!(!err.contains("hunter2"), "{err}");
            assert!(err.contains("nested.api_tokens"), "{err}");
            assert!(err.contains("expected a sequence"), "{err}");
            Ok(())
        });
        figment::Jail::expect_with(|jail| {
            jail.set_env("EVENTBANK_PORT", "not-a-port");
            let err = load::<Sample>().expect_err("not a number").to_string();
            assert!(
                err.contains("not-a-port"),
                "other values are still quoted: {err}"
            );
            Ok(())
        });
    }

    #[test]
    fn passwords_from_the_environment_are_taken_verbatim() {
        for password in ["0123", "true", "[not-a-list", "\"quoted\"", "a,b=c"] {
            figment::Jail::expect_with(|jail| {
                jail.set_env("EVENTBANK_NESTED__SASL_PASSWORD", password);
                let loaded: Sample = load().map_err(|e| e.to_string())?;
                let secret = loaded.nested.sasl_password.expect("a password");
                assert_eq!(secret.expose(), password);
                Ok(())
            });
        }
    }

    #[test]
    fn urls_without_passwords_are_left_alone() {
        assert_eq!(mask_url_password("redis://cache:6379"), None);
        assert_eq!(mask_url_password("http://user@host/path:x"), None);
        assert_eq!(mask_url_password("plain text"), None);
    }
}
