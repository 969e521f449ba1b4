//! The pure parts of authentication: reading a bearer token out of an
//! `Authorization` header and matching it against the configured tokens in
//! constant time, then deciding whether its scopes allow a route.

use axum::http::HeaderValue;
use sha2::{Digest, Sha256};

use super::Scope;

/// A configured token as kept in memory: its SHA-256 digest only, so the
/// comparison below runs over fixed-size values whatever the lengths.
#[derive(Clone)]
pub(super) struct KnownToken {
    pub name: String,
    digest: [u8; 32],
    pub scopes: Vec<Scope>,
}

// Never prints the digest: a digest of a short token could be brute-forced.
impl std::fmt::Debug for KnownToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnownToken")
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl KnownToken {
    pub fn new(name: &str, token: &str, scopes: Vec<Scope>) -> Self {
        Self {
            name: name.to_owned(),
            digest: digest(token),
            scopes,
        }
    }
}

pub(super) fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Equality of two digests without an early exit, so the time taken says
/// nothing about how many leading bytes matched. Comparing digests rather
/// than the tokens themselves also hides the configured tokens' lengths.
pub(super) fn digests_equal(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let difference = a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y));
    // black_box keeps the optimiser from turning the fold into a short-circuit.
    std::hint::black_box(difference) == 0
}

/// The known token `presented` is, if any. Every known token is compared (no
/// early return), so the time taken does not reveal which one matched.
pub(super) fn find<'a>(known: &'a [KnownToken], presented: &str) -> Option<&'a KnownToken> {
    let presented = digest(presented);
    let mut found = None;
    for token in known {
        if digests_equal(&token.digest, &presented) && found.is_none() {
            found = Some(token);
        }
    }
    found
}

/// Why a request carries no usable token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Credentials<'a> {
    /// No `Authorization` header at all.
    Missing,
    /// A header that is not `Bearer <token>` (another scheme, no token, not ASCII).
    Malformed,
    Bearer(&'a str),
}

/// Reads `Authorization: Bearer <token>`. The scheme is case-insensitive
/// (RFC 7235); the token is what follows the spaces after it.
pub(super) fn bearer(header: Option<&HeaderValue>) -> Credentials<'_> {
    let Some(header) = header else {
        return Credentials::Missing;
    };
    let Ok(value) = header.to_str() else {
        return Credentials::Malformed;
    };
    let Some((scheme, token)) = value.trim().split_once(' ') else {
        return Credentials::Malformed;
    };
    let token = token.trim_start();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
        return Credentials::Malformed;
    }
    Credentials::Bearer(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(value: &str) -> HeaderValue {
        HeaderValue::from_str(value).unwrap()
    }

    #[test]
    fn bearer_tokens_are_read_and_anything_else_is_malformed() {
        assert_eq!(bearer(None), Credentials::Missing);
        let ok = header("Bearer abc123");
        assert_eq!(bearer(Some(&ok)), Credentials::Bearer("abc123"));
        let lower = header("bearer   abc123");
        assert_eq!(bearer(Some(&lower)), Credentials::Bearer("abc123"));
        for bad in [
            "Basic dXNlcjpwdw==",
            "Bearer",
            "Bearer ",
            "abc123",
            "Bearer a b",
        ] {
            assert_eq!(bearer(Some(&header(bad))), Credentials::Malformed, "{bad}");
        }
        let not_ascii = HeaderValue::from_bytes(b"Bearer \xff").unwrap();
        assert_eq!(bearer(Some(&not_ascii)), Credentials::Malformed);
    }

    #[test]
    fn a_token_matches_only_itself() {
        let known = vec![
            KnownToken::new("ops", "token-one", vec![Scope::Read]),
            KnownToken::new("ci", "token-two", vec![Scope::Write]),
        ];
        assert_eq!(
            find(&known, "token-two").map(|t| t.name.as_str()),
            Some("ci")
        );
        assert_eq!(
            find(&known, "token-one").map(|t| t.name.as_str()),
            Some("ops")
        );
        for wrong in ["token-", "token-one ", "TOKEN-ONE", "", "token-three"] {
            assert!(find(&known, wrong).is_none(), "{wrong:?} must not match");
        }
    }

    #[test]
    fn digest_equality_is_exact() {
        let a = digest("a");
        let mut b = a;
        assert!(digests_equal(&a, &b));
        b[31] ^= 1;
        assert!(!digests_equal(&a, &b));
        assert!(!format!("{:?}", KnownToken::new("n", "secret", vec![])).contains("digest"));
    }
}
