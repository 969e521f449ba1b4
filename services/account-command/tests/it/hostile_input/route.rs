//! The command API's routes as the generators see them: where each lives,
//! what body and fields it takes, and a request it would accept.

use eventbank_testkit::hostile::Request;
use proptest::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

/// The API's default `api.max_body_bytes`.
pub(super) const MAX_BODY: usize = 16 * 1024;

#[derive(Debug, Clone, Copy)]
pub(super) enum Route {
    Open,
    Deposit,
    Withdraw,
    Close,
    Transfer,
}

impl Route {
    const ALL: [Route; 5] = [
        Self::Open,
        Self::Deposit,
        Self::Withdraw,
        Self::Close,
        Self::Transfer,
    ];

    pub(super) fn path(self, account: &str) -> String {
        match self {
            Self::Open => "/accounts".to_owned(),
            Self::Deposit => format!("/accounts/{account}/deposits"),
            Self::Withdraw => format!("/accounts/{account}/withdrawals"),
            Self::Close => format!("/accounts/{account}/close"),
            Self::Transfer => "/transfers".to_owned(),
        }
    }

    /// A body this route would accept.
    pub(super) fn valid_body(self) -> Value {
        match self {
            Self::Open => json!({"holder": "Ann", "currency": "EUR"}),
            Self::Deposit | Self::Withdraw => json!({"amount": 500}),
            Self::Close => json!({}),
            Self::Transfer => json!({
                "from": uuid::Uuid::new_v4().to_string(),
                "to": uuid::Uuid::new_v4().to_string(),
                "amount": 500
            }),
        }
    }

    pub(super) fn fields(self) -> &'static [&'static str] {
        match self {
            Self::Open => &["holder", "currency"],
            Self::Deposit | Self::Withdraw => &["amount"],
            Self::Close => &[],
            Self::Transfer => &["from", "to", "amount"],
        }
    }

    /// A request this route would accept, on an account of its own: the
    /// generators break one part of it.
    pub(super) fn valid_request(self) -> Request {
        Request::json(
            Method::POST,
            self.path(&account()),
            self.valid_body().to_string().into_bytes(),
        )
    }
}

pub(super) fn route() -> impl Strategy<Value = Route> {
    proptest::sample::select(Route::ALL.to_vec())
}

/// Routes that take a JSON object with required fields.
pub(super) fn body_route() -> impl Strategy<Value = Route> {
    let routes = Route::ALL
        .into_iter()
        .filter(|route| !route.fields().is_empty());
    proptest::sample::select(routes.collect::<Vec<_>>())
}

pub(super) fn account() -> String {
    uuid::Uuid::new_v4().to_string()
}
