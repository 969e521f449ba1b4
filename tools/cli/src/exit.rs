//! Exit codes and the one error type every command returns. The code tells a
//! script what kind of failure happened without parsing text:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | a check found a problem (`audit verify`/`reconcile` not ok, `load --verify` failed, `status` not all ready) or the CLI itself failed (a file it could not write) |
//! | 2 | usage error: bad flags or arguments, a bad config file, or a request the service refused as malformed (HTTP 400) |
//! | 3 | rejected by the bank: a domain refusal (HTTP 4xx other than 400, e.g. `insufficient_funds`, `account_not_found`, `idempotency_key_reused`) |
//! | 4 | a service is unreachable, failed (HTTP 5xx) or did not answer in time |
//! | 5 | not authorized: no token, an unknown one (HTTP 401) or one without the scope the request needs (HTTP 403) |

pub const SUCCESS: u8 = 0;
pub const FAILURE: u8 = 1;
pub const USAGE: u8 = 2;
pub const REJECTED: u8 = 3;
pub const UNAVAILABLE: u8 = 4;
pub const UNAUTHORIZED: u8 = 5;

/// Every way a command can fail. Each message is one sentence naming the
/// service and, when it sent one, its error code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A 4xx answer other than 400: the bank decided against the request.
    #[error("{service} rejected the request ({code}): {message}.")]
    Rejected {
        service: &'static str,
        status: u16,
        code: String,
        message: String,
    },
    /// A 401 or 403 answer: the token is missing, unknown or lacks the
    /// route's scope.
    #[error("{service} refused the request ({code}): {message}; {}", token_hint(*token_given))]
    Unauthorized {
        service: &'static str,
        code: String,
        message: String,
        token_given: bool,
    },
    /// A 400 answer: the request itself was malformed.
    #[error("{service} refused the request as invalid ({code}): {message}.")]
    Invalid {
        service: &'static str,
        code: String,
        message: String,
    },
    /// Connection refused, a timeout or a 5xx.
    #[error("{service} is unavailable at {url}: {reason}{hint}.")]
    Unavailable {
        service: &'static str,
        url: String,
        reason: String,
        /// What to do next (e.g. retry with the same idempotency key).
        hint: String,
    },
    #[error("{0}.")]
    Usage(String),
    #[error("configuration error: {0}.")]
    Config(String),
    /// A check ran and found a problem (already reported on stdout).
    #[error("{0}.")]
    CheckFailed(String),
    #[error("{0}.")]
    Other(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Rejected { .. } => REJECTED,
            Self::Invalid { .. } | Self::Usage(_) | Self::Config(_) => USAGE,
            Self::Unavailable { .. } => UNAVAILABLE,
            Self::Unauthorized { .. } => UNAUTHORIZED,
            Self::CheckFailed(_) | Self::Other(_) => FAILURE,
        }
    }

    /// The service's error code, if the service sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Rejected { code, .. }
            | Self::Invalid { code, .. }
            | Self::Unauthorized { code, .. } => Some(code),
            _ => None,
        }
    }

    /// A short, stable name of the kind of failure (`load` counts its
    /// errors by it).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Rejected { .. } => "rejected",
            Self::Invalid { .. } => "invalid",
            Self::Unavailable { .. } => "unavailable",
            Self::Unauthorized { .. } => "unauthorized",
            Self::Usage(_) => "usage",
            Self::Config(_) => "config",
            Self::CheckFailed(_) => "check_failed",
            Self::Other(_) => "failure",
        }
    }
}

fn token_hint(given: bool) -> &'static str {
    if given {
        "check that the token (--token or EVENTBANK_TOKEN) is one the service knows, with the scope this needs."
    } else {
        "give a token with --token or EVENTBANK_TOKEN (scripts/dev writes one to .dev/env)."
    }
}

pub type Result<T, E = CliError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_failure_has_its_own_code() {
        let rejected = CliError::Rejected {
            service: "account-command",
            status: 422,
            code: "insufficient_funds".into(),
            message: "balance 0 is less than 5".into(),
        };
        assert_eq!(rejected.exit_code(), REJECTED);
        assert_eq!(
            rejected.to_string(),
            "account-command rejected the request (insufficient_funds): balance 0 is less than 5."
        );
        let down = CliError::Unavailable {
            service: "audit-log",
            url: "http://x".into(),
            reason: "connection refused".into(),
            hint: String::new(),
        };
        assert_eq!(down.exit_code(), UNAVAILABLE);
        assert_eq!(CliError::Usage("bad".into()).exit_code(), USAGE);
        assert_eq!(CliError::CheckFailed("x".into()).exit_code(), FAILURE);
    }
}
