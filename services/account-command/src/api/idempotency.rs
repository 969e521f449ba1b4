//! The `Idempotency-Key` header and the ids derived from it.
//!
//! With a key, a request's ids are UUIDv5 hashes of `"{METHOD} {path}\n{key}"`,
//! where `path` is the request's canonical path with the account id as
//! lowercase hyphenated text (`POST /accounts/3f2c…/deposits`): the command id
//! (namespace [`COMMAND_NAMESPACE`]) always, the new account's id for
//! `POST /accounts` ([`ACCOUNT_NAMESPACE`]) and the transfer's id for
//! `POST /transfers` ([`TRANSFER_NAMESPACE`]; its "path" is
//! `POST /transfers from=<source account id>`). A retry therefore targets the
//! same account stream with the same command id, and the processor's
//! command memory answers with the first outcome and appends nothing.
//! Without a key every id is a fresh v4.
//!
//! The key is scoped by method and path — and a transfer's by its source
//! account: the same key on two routes, for deposits into two accounts, or
//! for transfers from two accounts, names two different commands. A key
//! reused with a different *body* on the same route names the same command
//! id with a different request fingerprint, and the processor refuses it
//! with 422 `idempotency_key_reused` without changing anything (IETF
//! Idempotency-Key draft semantics).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue};
use eventbank_events::{AccountId, CommandId, TransferId};
use eventbank_runtime::http::ApiError;
use uuid::Uuid;

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// Longest accepted key.
pub const MAX_KEY_LEN: usize = 200;

/// Namespace of command ids derived from idempotency keys:
/// `UUIDv5(NAMESPACE_URL, "https://github.com/eventbank/eventbank#api-commands")`.
/// Fixed forever: a new value would make a retry across an upgrade a new command.
pub const COMMAND_NAMESPACE: Uuid = Uuid::from_u128(0x48b0_ef96_328d_507f_b7b4_3737_60d9_5ac7);

/// Namespace of account ids derived from idempotency keys (`#api-accounts`).
pub const ACCOUNT_NAMESPACE: Uuid = Uuid::from_u128(0xa244_f845_a03b_557d_b645_0871_f79a_d48a);

/// Namespace of transfer ids derived from idempotency keys (`#api-transfers`).
pub const TRANSFER_NAMESPACE: Uuid = Uuid::from_u128(0xf321_f28c_c54e_5bb1_a6be_6737_7e13_a4a1);

/// A valid key: 1 to [`MAX_KEY_LEN`] printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_idempotency_key", message)
}

impl IdempotencyKey {
    pub fn parse(value: &HeaderValue) -> Result<Self, ApiError> {
        let bytes = value.as_bytes();
        if bytes.is_empty() {
            return Err(invalid("the Idempotency-Key header is empty"));
        }
        if bytes.len() > MAX_KEY_LEN {
            return Err(invalid(format!(
                "the Idempotency-Key header is {} characters long; at most {MAX_KEY_LEN} are allowed",
                bytes.len()
            )));
        }
        if !bytes.iter().all(|byte| (0x20..=0x7e).contains(byte)) {
            return Err(invalid(
                "the Idempotency-Key header may contain only printable ASCII characters",
            ));
        }
        // All printable ASCII, so valid UTF-8.
        Ok(Self(String::from_utf8_lossy(bytes).into_owned()))
    }

    fn derive(&self, namespace: &Uuid, route: &str) -> Uuid {
        // A newline occurs in neither part, so distinct (route, key) pairs
        // hash distinct names.
        Uuid::new_v5(namespace, format!("{route}\n{}", self.0).as_bytes())
    }
}

/// The request's optional key; a present but invalid one is a 400.
#[derive(Debug, Clone)]
pub struct Idempotency(pub Option<IdempotencyKey>);

impl<S: Send + Sync> FromRequestParts<S> for Idempotency {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let mut values = parts.headers.get_all(IDEMPOTENCY_KEY).iter();
        match (values.next(), values.next()) {
            (None, _) => Ok(Self(None)),
            (Some(value), None) => IdempotencyKey::parse(value).map(|key| Self(Some(key))),
            (Some(_), Some(_)) => Err(invalid("send at most one Idempotency-Key header")),
        }
    }
}

/// The ids of one request on `route` (`"POST /accounts"`, `"POST
/// /accounts/{id}/deposits"` with the id filled in, …).
#[derive(Debug, Clone, Copy)]
pub struct RequestIds<'a> {
    key: Option<&'a IdempotencyKey>,
    route: &'a str,
}

impl<'a> RequestIds<'a> {
    pub fn new(key: Option<&'a IdempotencyKey>, route: &'a str) -> Self {
        Self { key, route }
    }

    /// Whether the ids are derived (a retry may already have an outcome).
    pub fn is_idempotent(&self) -> bool {
        self.key.is_some()
    }

    pub fn command_id(&self) -> CommandId {
        CommandId::from_uuid(self.derive_or_new(&COMMAND_NAMESPACE))
    }

    /// The id of the account `POST /accounts` opens.
    pub fn account_id(&self) -> AccountId {
        AccountId::from_uuid(self.derive_or_new(&ACCOUNT_NAMESPACE))
    }

    /// The id of the transfer `POST /transfers` starts.
    pub fn transfer_id(&self) -> TransferId {
        TransferId::from_uuid(self.derive_or_new(&TRANSFER_NAMESPACE))
    }

    fn derive_or_new(&self, namespace: &Uuid) -> Uuid {
        match self.key {
            Some(key) => key.derive(namespace, self.route),
            None => Uuid::new_v4(),
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::Request;

    use super::*;

    fn key(text: &str) -> IdempotencyKey {
        IdempotencyKey::parse(&HeaderValue::from_str(text).unwrap()).unwrap()
    }

    #[test]
    fn namespaces_are_the_documented_derivations() {
        for (namespace, fragment) in [
            (COMMAND_NAMESPACE, "api-commands"),
            (ACCOUNT_NAMESPACE, "api-accounts"),
            (TRANSFER_NAMESPACE, "api-transfers"),
        ] {
            let url = format!("https://github.com/eventbank/eventbank#{fragment}");
            assert_eq!(
                namespace,
                Uuid::new_v5(&Uuid::NAMESPACE_URL, url.as_bytes())
            );
        }
    }

    #[test]
    fn derived_ids_are_stable() {
        let key = key("order-42");
        let ids = RequestIds::new(Some(&key), "POST /accounts");
        assert!(ids.is_idempotent());
        assert_eq!(ids.command_id(), ids.command_id());
        assert_eq!(ids.account_id(), ids.account_id());
        assert_eq!(ids.command_id().as_uuid().get_version_num(), 5);
        // Pinned: a change would turn every retry across an upgrade into a new command.
        assert_eq!(
            ids.command_id().to_string(),
            Uuid::new_v5(&COMMAND_NAMESPACE, b"POST /accounts\norder-42").to_string()
        );
        assert_eq!(
            ids.command_id().to_string(),
            "82f18aa9-bbcf-57a3-bf2b-03c6dd623a17"
        );
    }

    #[test]
    fn derived_ids_differ_per_route_key_and_kind() {
        let a = key("k1");
        let b = key("k2");
        let account = AccountId::new();
        let other = AccountId::new();
        let routes = [
            "POST /accounts".to_owned(),
            format!("POST /accounts/{account}/deposits"),
            format!("POST /accounts/{account}/withdrawals"),
            format!("POST /accounts/{other}/deposits"),
            format!("POST /accounts/{account}/close"),
            "POST /transfers".to_owned(),
        ];
        let mut seen = std::collections::HashSet::new();
        for route in &routes {
            for key in [&a, &b] {
                let ids = RequestIds::new(Some(key), route);
                assert!(seen.insert(ids.command_id().as_uuid()), "{route}");
            }
        }
        let ids = RequestIds::new(Some(&a), "POST /accounts");
        assert_ne!(ids.account_id().as_uuid(), ids.command_id().as_uuid());
        assert_ne!(ids.transfer_id().as_uuid(), ids.command_id().as_uuid());
        assert_ne!(ids.transfer_id().as_uuid(), ids.account_id().as_uuid());
    }

    #[test]
    fn without_a_key_ids_are_fresh() {
        let ids = RequestIds::new(None, "POST /accounts");
        assert!(!ids.is_idempotent());
        assert_ne!(ids.command_id(), ids.command_id());
        assert_eq!(ids.account_id().as_uuid().get_version_num(), 4);
    }

    #[test]
    fn keys_must_be_short_printable_ascii() {
        assert_eq!(key(&"k".repeat(200)).0.len(), 200);
        assert_eq!(key("a b:c/d").0, "a b:c/d");
        for bad in [
            HeaderValue::from_static(""),
            HeaderValue::from_str(&"k".repeat(201)).unwrap(),
            HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap(),
            HeaderValue::from_bytes(b"tab\there").unwrap(),
        ] {
            let err = IdempotencyKey::parse(&bad).unwrap_err();
            assert_eq!(err.code, "invalid_idempotency_key", "{bad:?}");
            assert_eq!(err.status.as_u16(), 400);
        }
    }

    #[tokio::test]
    async fn extractor_refuses_two_keys() {
        let (mut parts, ()) = Request::builder()
            .header(IDEMPOTENCY_KEY, "a")
            .header(IDEMPOTENCY_KEY, "b")
            .body(())
            .unwrap()
            .into_parts();
        let err = Idempotency::from_request_parts(&mut parts, &())
            .await
            .unwrap_err();
        assert_eq!(err.code, "invalid_idempotency_key");

        let (mut parts, ()) = Request::builder().body(()).unwrap().into_parts();
        let Idempotency(none) = Idempotency::from_request_parts(&mut parts, &())
            .await
            .unwrap();
        assert!(none.is_none());
    }
}
