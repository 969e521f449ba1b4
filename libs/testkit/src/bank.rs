//! A client of account-command's HTTP API the way a careful caller uses it:
//! every write carries an `Idempotency-Key`, a 202 is followed to its result,
//! and a failed request is retried with the same key. It sends the test
//! token.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    /// The `Command-Id` header every command response carries, errors included.
    pub command_id: Option<String>,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    /// Asserts the answer is a refusal by the domain: 422 with `code`.
    #[track_caller]
    pub fn assert_refused(&self, code: &str) {
        assert_eq!(self.status, StatusCode::UNPROCESSABLE_ENTITY, "{self:?}");
        assert_eq!(self.code(), code, "{self:?}");
    }
}

#[derive(Debug, Clone)]
pub struct BankClient {
    pub base: String,
    http: reqwest::Client,
}

impl BankClient {
    pub fn new(base: String) -> Self {
        Self {
            base,
            http: crate::http::client_builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("http client"),
        }
    }

    /// One request, no retries.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> Result<Reply, reqwest::Error> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let command_id = response
            .headers()
            .get("command-id")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Reply {
            status,
            body,
            command_id,
        })
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::POST, path, Some(body), None)
            .await
            .expect("request")
    }

    /// One deposit of `amount` onto `account`, no key, no retries.
    pub async fn deposit(&self, account: impl std::fmt::Display, amount: i64) -> Reply {
        let path = format!("/accounts/{account}/deposits");
        self.post(&path, json!({ "amount": amount })).await
    }

    /// One withdrawal of `amount` from `account`, no key, no retries.
    pub async fn withdraw(&self, account: impl std::fmt::Display, amount: i64) -> Reply {
        let path = format!("/accounts/{account}/withdrawals");
        self.post(&path, json!({ "amount": amount })).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(reqwest::Method::GET, path, None, None)
            .await
            .expect("request")
    }

    /// Sends until there is a final answer: retries transport errors and 503
    /// with the same key, follows 202 `pending` to `GET /commands/{id}`.
    pub async fn settle(&self, path: &str, body: Option<Value>, key: &str) -> Reply {
        let started = Instant::now();
        loop {
            assert!(
                started.elapsed() < Duration::from_secs(180),
                "no final answer for {path} (key {key})"
            );
            let reply = match self
                .send(reqwest::Method::POST, path, body.clone(), Some(key))
                .await
            {
                Ok(reply) => reply,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            };
            if reply.status == StatusCode::SERVICE_UNAVAILABLE {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            if reply.status == StatusCode::ACCEPTED
                && reply.body["status"] == "pending"
                && reply.body.get("result_url").is_some()
            {
                let url = reply.body["result_url"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                if let Some(done) = self.follow(&url).await {
                    return done;
                }
                // Still unknown after a while: ask again with the same key;
                // the processor answers a repeated command with its first outcome.
                continue;
            }
            return reply;
        }
    }

    async fn follow(&self, url: &str) -> Option<Reply> {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if let Ok(reply) = self.send(reqwest::Method::GET, url, None, None).await
                && reply.status != StatusCode::NOT_FOUND
                && reply.status != StatusCode::SERVICE_UNAVAILABLE
            {
                return Some(reply);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        None
    }

    pub async fn open(&self, holder: &str, currency: &str) -> String {
        let key = uuid::Uuid::new_v4().to_string();
        let reply = self
            .settle(
                "/accounts",
                Some(json!({"holder": holder, "currency": currency})),
                &key,
            )
            .await;
        assert!(
            reply.status == StatusCode::CREATED || reply.status == StatusCode::OK,
            "open account: {reply:?}"
        );
        reply.body["account_id"]
            .as_str()
            .expect("account_id")
            .to_owned()
    }
}
