//! The `auth` settings section every service has, and the tokens file a
//! Kubernetes Secret is mounted as.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Toml};
use serde::{Deserialize, Serialize};

use super::{AuthError, Scope};
use crate::secret::Secret;

crate::settings_section! {
    /// Who may call the service's API. The env form of the inline list:
    /// `EVENTBANK_AUTH__TOKENS='[{name="ci",token="…",scopes=["read"]}]'`.
    pub struct AuthSettings {
        /// Off only for a deployment whose network already authenticates
        /// every caller; the API is then open to anyone who reaches it.
        pub enabled: bool = true,
        pub tokens: Vec<TokenSettings> = Vec::new(),
        /// A TOML (`[[tokens]]`) or JSON (`{"tokens":[…]}`, by the `.json`
        /// extension) file of more tokens, read at start: where a mounted
        /// Secret lands.
        pub tokens_file: Option<PathBuf> = None,
        /// When set, `/metrics` answers only `Authorization: Bearer` this.
        pub metrics_token: Option<Secret> = None,
    }
}

/// One accepted bearer token. `name` says whose it is in logs (the token
/// itself is never logged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSettings {
    pub name: String,
    pub token: Secret,
    pub scopes: Vec<Scope>,
}

/// The shape of `auth.tokens_file`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokensFile {
    pub tokens: Vec<TokenSettings>,
}

/// Tokens shorter than this are refused: a guessable token is no lock.
pub const MIN_TOKEN_LEN: usize = 16;

impl TokenSettings {
    pub(super) fn check(&self) -> Result<(), AuthError> {
        let invalid = |reason: &str| AuthError::Invalid {
            name: self.name.clone(),
            reason: reason.to_owned(),
        };
        if self.name.trim().is_empty() {
            return Err(invalid("has no name"));
        }
        let token = self.token.expose();
        if token.chars().count() < MIN_TOKEN_LEN {
            return Err(invalid("is shorter than 16 characters"));
        }
        // What `Authorization: Bearer <token>` can carry (RFC 6750's b64token,
        // and no spaces): anything else could never be presented.
        if !token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~+/=".contains(c))
        {
            return Err(invalid("may hold only letters, digits and - . _ ~ + / ="));
        }
        if self.scopes.is_empty() {
            return Err(invalid("has no scopes"));
        }
        Ok(())
    }
}

impl AuthSettings {
    /// The checks of the inline tokens, run with the rest of a service's
    /// settings before anything connects. Whether there is any token at all
    /// is checked when the service is built ([`Auth::from_settings`](super::Auth::from_settings)),
    /// so the subcommands that serve no API (`ensure-topics`, `healthcheck`)
    /// run without one.
    pub fn validate(&self) -> Result<(), crate::ConfigError> {
        for token in &self.tokens {
            token
                .check()
                .map_err(|err| crate::ConfigError::invalid("auth.tokens", err.to_string()))?;
        }
        Ok(())
    }
}

pub(super) fn read_tokens_file(path: &Path) -> Result<TokensFile, AuthError> {
    let failed = |reason: String| AuthError::File {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|err| failed(err.to_string()))?;
    if path.extension().is_some_and(|ext| ext == "json") {
        serde_json::from_str(&text).map_err(|err| failed(err.to_string()))
    } else {
        Figment::from(Toml::string(&text))
            .extract()
            .map_err(|err| failed(err.to_string()))
    }
}

#[cfg(test)]
// figment's Jail API returns its large error type by value; not ours to change.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use crate::http::auth::Auth;

    const TOKEN: &str = "0123456789abcdef0123";

    fn token(name: &str, value: &str, scopes: Vec<Scope>) -> TokenSettings {
        TokenSettings {
            name: name.into(),
            token: Secret::new(value),
            scopes,
        }
    }

    #[test]
    fn on_by_default_and_refuses_to_start_without_a_token() {
        let settings = AuthSettings::default();
        assert!(settings.enabled);
        let err = Auth::from_settings(&settings).expect_err("no token");
        assert!(matches!(err, AuthError::NoTokens), "{err}");
        assert!(err.to_string().contains("EVENTBANK_AUTH__TOKENS"), "{err}");
        let off = AuthSettings {
            enabled: false,
            ..AuthSettings::default()
        };
        off.validate().expect("off needs no token");
        assert!(!Auth::from_settings(&off).unwrap().enabled());
    }

    #[test]
    fn unusable_tokens_are_refused_by_name_without_showing_them() {
        for bad in [
            token("short", "abc", vec![Scope::Read]),
            token("spaces", "0123456789 abcdef", vec![Scope::Read]),
            token("", TOKEN, vec![Scope::Read]),
            token("noscope", TOKEN, vec![]),
        ] {
            let settings = AuthSettings {
                tokens: vec![bad.clone()],
                ..AuthSettings::default()
            };
            let err = settings.validate().expect_err("refused").to_string();
            assert!(err.contains(&format!("{:?}", bad.name)), "{err}");
            assert!(!err.contains(bad.token.expose()), "{err}");
        }
    }

    #[test]
    fn the_effective_configuration_print_shows_no_token() {
        let settings = AuthSettings {
            tokens: vec![token("ci", TOKEN, vec![Scope::Read])],
            metrics_token: Some(Secret::new("scrape-0123456789abc")),
            ..AuthSettings::default()
        };
        let shown = crate::config::redacted(&settings).to_string();
        assert!(
            !shown.contains(TOKEN) && !shown.contains("scrape-"),
            "{shown}"
        );
        assert!(!format!("{settings:?}").contains(TOKEN));
    }

    #[test]
    fn tokens_come_from_the_environment_as_a_list() {
        figment::Jail::expect_with(|jail| {
            jail.set_env(
                "EVENTBANK_AUTH__TOKENS",
                format!(r#"[{{name="ci",token="{TOKEN}",scopes=["read","write"]}}]"#),
            );
            jail.set_env("EVENTBANK_AUTH__METRICS_TOKEN", "scrape-0123456789abc");
            #[derive(Serialize, Deserialize, Default)]
            struct Wrapper {
                auth: AuthSettings,
            }
            let wrapper: Wrapper = crate::config::figment::<Wrapper>()
                .map_err(|e| e.to_string())?
                .extract()?;
            let expected = token("ci", TOKEN, vec![Scope::Read, Scope::Write]);
            assert_eq!(wrapper.auth.tokens, vec![expected]);
            assert_eq!(
                wrapper.auth.metrics_token.as_ref().map(Secret::expose),
                Some("scrape-0123456789abc")
            );
            Ok(())
        });
    }

    #[test]
    fn a_tokens_file_is_read_as_toml_or_json() {
        let dir = tempfile::tempdir().unwrap();
        let toml = dir.path().join("tokens.toml");
        let body =
            format!("[[tokens]]\nname = \"ops\"\ntoken = \"{TOKEN}\"\nscopes = [\"audit\"]\n");
        std::fs::write(&toml, body).unwrap();
        let json = dir.path().join("tokens.json");
        let body =
            format!(r#"{{"tokens":[{{"name":"ops","token":"{TOKEN}","scopes":["audit"]}}]}}"#);
        std::fs::write(&json, body).unwrap();
        let expected = TokensFile {
            tokens: vec![token("ops", TOKEN, vec![Scope::Audit])],
        };
        assert_eq!(read_tokens_file(&toml).unwrap(), expected);
        assert_eq!(read_tokens_file(&json).unwrap(), expected);
        let settings = AuthSettings {
            tokens_file: Some(dir.path().join("missing.json")),
            ..AuthSettings::default()
        };
        settings
            .validate()
            .expect("the file is read at start, not here");
        let err = Auth::from_settings(&settings)
            .expect_err("missing file")
            .to_string();
        assert!(err.contains("missing.json"), "{err}");
    }
}
