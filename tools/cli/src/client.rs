//! The HTTP client every command uses: one base URL per service, the bearer
//! token on every request, an `Idempotency-Key` on every write, bounded
//! retries of a write with the *same* key (so a retry never applies twice),
//! a 202 `pending` followed to its outcome at `GET /commands/{id}`, and every
//! failure turned into a [`CliError`] of the right kind.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::config::Config;
use crate::exit::CliError;

/// The four services, for URLs and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    AccountCommand,
    BalanceProjector,
    TransferSaga,
    AuditLog,
}

impl Service {
    pub const ALL: [Service; 4] = [
        Self::AccountCommand,
        Self::BalanceProjector,
        Self::TransferSaga,
        Self::AuditLog,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::AccountCommand => "account-command",
            Self::BalanceProjector => "balance-projector",
            Self::TransferSaga => "transfer-saga",
            Self::AuditLog => "audit-log",
        }
    }
}

/// A successful answer: its status, JSON body and headers worth keeping.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    /// `X-Next-After` of an audit export page.
    pub next_after: Option<String>,
}

/// How many times a write is sent before the service counts as unavailable.
const ATTEMPTS: u32 = 4;

#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    config: Config,
}

impl Client {
    pub fn new(config: Config) -> Result<Self, CliError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_secs.max(1)))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|err| CliError::Other(format!("cannot build the HTTP client: {err}")))?;
        Ok(Self { http, config })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn base(&self, service: Service) -> &str {
        let url = match service {
            Service::AccountCommand => &self.config.account_command_url,
            Service::BalanceProjector => &self.config.balance_projector_url,
            Service::TransferSaga => &self.config.transfer_saga_url,
            Service::AuditLog => &self.config.audit_log_url,
        };
        url.trim_end_matches('/')
    }

    fn request(&self, method: Method, service: Service, path: &str) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base(service)));
        if let Some(token) = &self.config.token {
            request = request.bearer_auth(token);
        }
        request
    }

    /// One GET, no retries; any non-2xx is an error.
    pub async fn get(&self, service: Service, path: &str) -> Result<Value, CliError> {
        Ok(self.get_reply(service, path).await?.body)
    }

    /// One GET returning the whole [`Reply`] (for headers), non-2xx an error.
    pub async fn get_reply(&self, service: Service, path: &str) -> Result<Reply, CliError> {
        let response = self
            .request(Method::GET, service, path)
            .send()
            .await
            .map_err(|err| self.transport(service, &err, ""))?;
        self.reply(service, response, "").await
    }

    /// One GET whose status is not judged (`/readyz` answers 503 with a body):
    /// the status and the body, JSON if it parses. Only a transport failure
    /// is an error.
    pub async fn get_raw(&self, service: Service, path: &str) -> Result<(u16, Value), CliError> {
        let response = self
            .request(Method::GET, service, path)
            .send()
            .await
            .map_err(|err| self.transport(service, &err, ""))?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|err| self.transport(service, &err, ""))?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    /// GET whose body is text (`/metrics`, CSV exports).
    pub async fn get_text(
        &self,
        service: Service,
        path: &str,
    ) -> Result<(String, Option<String>), CliError> {
        let response = self
            .request(Method::GET, service, path)
            .send()
            .await
            .map_err(|err| self.transport(service, &err, ""))?;
        let status = response.status();
        let next_after = header(&response, "x-next-after");
        if !status.is_success() {
            // The error body is JSON like any other: classify it the same way.
            return match self.reply(service, response, "").await {
                Err(err) => Err(err),
                Ok(reply) => Err(CliError::Other(format!("unexpected HTTP {}", reply.status))),
            };
        }
        let text = response
            .text()
            .await
            .map_err(|err| self.transport(service, &err, ""))?;
        Ok((text, next_after))
    }

    /// A write to account-command with idempotency key `key`: retried with
    /// the same key on a transport error or 503, a 202 `pending` followed to
    /// its outcome. Returns the final 2xx reply.
    pub async fn command(
        &self,
        path: &str,
        body: Option<&Value>,
        key: &str,
    ) -> Result<Reply, CliError> {
        let service = Service::AccountCommand;
        let hint = format!("; retry with --idempotency-key {key} to apply it at most once");
        let deadline = Instant::now() + Duration::from_secs(self.config.timeout_secs.max(1));
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut request = self
                .request(Method::POST, service, path)
                .header("Idempotency-Key", key);
            if let Some(body) = body {
                request = request.json(body);
            }
            let outcome = match request.send().await {
                Ok(response) => self.reply(service, response, &hint).await,
                Err(err) => Err(self.transport(service, &err, &hint)),
            };
            let retry = match &outcome {
                Err(CliError::Unavailable { .. }) => {
                    attempt < ATTEMPTS && Instant::now() < deadline
                }
                _ => false,
            };
            if retry {
                tokio::time::sleep(Duration::from_millis(150 * u64::from(attempt))).await;
                continue;
            }
            let reply = outcome?;
            if reply.status == StatusCode::ACCEPTED
                && let Some(url) = reply.body.get("result_url").and_then(Value::as_str)
            {
                return self.follow(url, deadline, &hint).await;
            }
            return Ok(reply);
        }
    }

    /// Polls `GET /commands/{id}` until it knows the outcome (404 means
    /// still pending) or `deadline` passes.
    async fn follow(&self, url: &str, deadline: Instant, hint: &str) -> Result<Reply, CliError> {
        let service = Service::AccountCommand;
        loop {
            let outcome = match self.request(Method::GET, service, url).send().await {
                Ok(response) => self.reply(service, response, hint).await,
                Err(err) => Err(self.transport(service, &err, hint)),
            };
            match outcome {
                Err(CliError::Rejected {
                    status: 404,
                    ref code,
                    ..
                }) if code == "command_not_found" => {}
                Err(CliError::Unavailable { .. }) => {}
                other => return other,
            }
            if Instant::now() >= deadline {
                return Err(CliError::Unavailable {
                    service: service.name(),
                    url: self.base(service).to_owned(),
                    reason: "the command's outcome is still unknown (accepted for processing, no result in time)".to_owned(),
                    hint: hint.to_owned(),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn reply(
        &self,
        service: Service,
        response: reqwest::Response,
        hint: &str,
    ) -> Result<Reply, CliError> {
        let status = response.status();
        let next_after = header(&response, "x-next-after");
        let text = response
            .text()
            .await
            .map_err(|err| self.transport(service, &err, hint))?;
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if status.is_success() {
            return Ok(Reply {
                status,
                body,
                next_after,
            });
        }
        let code = body["error"]["code"]
            .as_str()
            .unwrap_or("no_error_code")
            .to_owned();
        let message = body["error"]["message"]
            .as_str()
            .map(|m| m.trim_end_matches('.').to_owned())
            .unwrap_or_else(|| format!("HTTP {status}"));
        Err(
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                CliError::Unauthorized {
                    service: service.name(),
                    code,
                    message,
                    token_given: self.config().token.is_some(),
                }
            } else if status == StatusCode::BAD_REQUEST {
                CliError::Invalid {
                    service: service.name(),
                    code,
                    message,
                }
            } else if status.is_client_error() {
                CliError::Rejected {
                    service: service.name(),
                    status: status.as_u16(),
                    code,
                    message,
                }
            } else {
                CliError::Unavailable {
                    service: service.name(),
                    url: self.base(service).to_owned(),
                    reason: format!("HTTP {} ({code}): {message}", status.as_u16()),
                    hint: hint.to_owned(),
                }
            },
        )
    }

    fn transport(&self, service: Service, err: &reqwest::Error, hint: &str) -> CliError {
        let reason = if err.is_timeout() {
            "no answer in time".to_owned()
        } else if err.is_connect() {
            "cannot connect".to_owned()
        } else {
            let mut text = err.to_string();
            let mut source = std::error::Error::source(err);
            while let Some(cause) = source {
                text = format!("{text}: {cause}");
                source = cause.source();
            }
            text
        };
        CliError::Unavailable {
            service: service.name(),
            url: self.base(service).to_owned(),
            reason,
            hint: hint.to_owned(),
        }
    }
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// A fresh idempotency key.
pub fn new_key() -> String {
    uuid::Uuid::new_v4().to_string()
}
