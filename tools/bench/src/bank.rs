//! A thin client for the public HTTP APIs (docs/DESIGN.md): what the
//! workloads call. Errors are short kinds (`"http 503"`, `"connect"`) so a
//! load report can count them.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

/// Where the services answer.
#[derive(Debug, Clone)]
pub struct Bank {
    http: reqwest::Client,
    /// account-command, e.g. `http://127.0.0.1:8080`.
    pub commands: String,
    /// balance-projector, e.g. `http://127.0.0.1:8081`.
    pub queries: String,
}

/// A command's answer: the account's new version and balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Applied {
    pub version: u64,
    pub balance: i64,
}

/// How a command went, as the API answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer<T> {
    /// 2xx with a result.
    Accepted(T),
    /// 4xx with an error code (`insufficient_funds`): the command was decided.
    Rejected(String),
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    code: String,
}

#[derive(Debug, Deserialize)]
struct Opened {
    account_id: String,
}

#[derive(Debug, Deserialize)]
struct TransferStarted {
    transfer_id: String,
    status: String,
}

#[derive(Debug, Deserialize)]
struct View {
    version: u64,
    #[serde(default)]
    behind: bool,
}

#[derive(Debug, Deserialize)]
struct TransferView {
    status: String,
}

/// An account as the read model shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visible {
    pub version: u64,
    /// The read timed out before the view reached the asked version.
    pub behind: bool,
}

fn transport(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "timeout".to_owned()
    } else if err.is_connect() {
        "connect".to_owned()
    } else {
        "transport".to_owned()
    }
}

/// Sends `request`; a failure to get any answer is named by its kind.
async fn send(request: reqwest::RequestBuilder) -> Result<reqwest::Response, String> {
    request.send().await.map_err(|e| transport(&e))
}

impl Bank {
    /// A client with a connection pool big enough for `clients` concurrent
    /// requests, carrying the run's token; every request gives up after `timeout`.
    pub fn new(commands: String, queries: String, clients: usize, timeout: Duration) -> Self {
        let http = crate::auth::client_builder()
            .no_proxy()
            .pool_max_idle_per_host(clients.max(1))
            .tcp_nodelay(true)
            .timeout(timeout)
            .build()
            .expect("an HTTP client without TLS builds");
        Self {
            http,
            commands,
            queries,
        }
    }

    async fn command<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> Result<Answer<T>, String> {
        let response = send(
            self.http
                .post(format!("{}{path}", self.commands))
                .json(&body),
        )
        .await?;
        let status = response.status();
        if status == reqwest::StatusCode::ACCEPTED || status.is_success() {
            let bytes = response.bytes().await.map_err(|e| transport(&e))?;
            // 202 without a result in time has a result URL instead of a
            // version (a transfer's normal 202 has none): the wait timed out.
            if status == reqwest::StatusCode::ACCEPTED
                && serde_json::from_slice::<serde_json::Value>(&bytes)
                    .is_ok_and(|v| v.get("result_url").is_some())
            {
                return Err("result timeout (202)".to_owned());
            }
            return serde_json::from_slice(&bytes)
                .map(Answer::Accepted)
                .map_err(|_| format!("http {} unreadable body", status.as_u16()));
        }
        if status.is_client_error() {
            let code = response
                .json::<ErrorBody>()
                .await
                .map(|b| b.error.code)
                .unwrap_or_else(|_| "unreadable".to_owned());
            return Ok(Answer::Rejected(code));
        }
        Err(format!("http {}", status.as_u16()))
    }

    /// `POST /accounts`; the new account's id.
    pub async fn open_account(&self, holder: &str, currency: &str) -> Result<String, String> {
        match self
            .command::<Opened>(
                "/accounts",
                json!({ "holder": holder, "currency": currency }),
            )
            .await?
        {
            Answer::Accepted(opened) => Ok(opened.account_id),
            Answer::Rejected(code) => Err(code),
        }
    }

    /// `POST /accounts/{id}/deposits`.
    pub async fn deposit(&self, account: &str, amount: i64) -> Result<Answer<Applied>, String> {
        self.command(
            &format!("/accounts/{account}/deposits"),
            json!({ "amount": amount }),
        )
        .await
    }

    /// `POST /accounts/{id}/withdrawals`.
    pub async fn withdraw(&self, account: &str, amount: i64) -> Result<Answer<Applied>, String> {
        self.command(
            &format!("/accounts/{account}/withdrawals"),
            json!({ "amount": amount }),
        )
        .await
    }

    /// `POST /transfers`; the transfer id once the debit is accepted.
    pub async fn transfer(
        &self,
        from: &str,
        to: &str,
        amount: i64,
    ) -> Result<Answer<String>, String> {
        let answer = self
            .command::<TransferStarted>(
                "/transfers",
                json!({ "from": from, "to": to, "amount": amount }),
            )
            .await?;
        Ok(match answer {
            Answer::Accepted(started) if started.status == "pending" => {
                Answer::Accepted(started.transfer_id)
            }
            Answer::Accepted(started) => Answer::Rejected(started.status),
            Answer::Rejected(code) => Answer::Rejected(code),
        })
    }

    /// `GET /accounts/{id}?min_version=N` on the read model: waits (up to the
    /// projector's `read_wait_ms`) until the view has version N.
    pub async fn visible(&self, account: &str, min_version: u64) -> Result<Visible, String> {
        let url = format!(
            "{}/accounts/{account}?min_version={min_version}",
            self.queries
        );
        let view: View = self
            .read_view(url)
            .await?
            .ok_or_else(|| "read http 404".to_owned())?;
        Ok(Visible {
            version: view.version,
            behind: view.behind,
        })
    }

    /// `GET /transfers/{id}` on the read model: its status, `None` while the
    /// view does not know the transfer yet.
    pub async fn transfer_status(&self, transfer: &str) -> Result<Option<String>, String> {
        let url = format!("{}/transfers/{transfer}", self.queries);
        let view: Option<TransferView> = self.read_view(url).await?;
        Ok(view.map(|view| view.status))
    }

    /// `GET url` on the read model as JSON; `None` for a 404.
    async fn read_view<T: for<'de> Deserialize<'de>>(
        &self,
        url: String,
    ) -> Result<Option<T>, String> {
        let response = send(self.http.get(url)).await?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(format!("read http {}", status.as_u16()));
        }
        response.json().await.map(Some).map_err(|e| transport(&e))
    }

    /// `GET <base><path>` as text (`/metrics`, `/admin/generation`).
    pub async fn get_text(&self, base: &str, path: &str) -> Result<String, String> {
        let response = send(self.http.get(format!("{base}{path}"))).await?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("http {}", status.as_u16()));
        }
        response.text().await.map_err(|e| transport(&e))
    }

    /// `POST <base><path>` with an empty body; the status and the body.
    pub async fn post_empty(&self, base: &str, path: &str) -> Result<(u16, String), String> {
        let response = send(self.http.post(format!("{base}{path}"))).await?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(|e| transport(&e))?;
        Ok((status, body))
    }
}

/// The sum of every sample of `metric` (any labels) in Prometheus text.
pub fn metric_sum(text: &str, metric: &str) -> u64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (name, rest) = line.split_once(['{', ' '])?;
            (name == metric).then_some(rest)
        })
        .filter_map(|rest| {
            let value = rest.rsplit(' ').next()?;
            // Counters print as integers; a gauge may print "12.0".
            value.split('.').next()?.parse::<u64>().ok()
        })
        .sum()
}

/// A decimal figure (`"1.234"`, `"5"`, `"2.5e-3"` is not one) in millionths.
pub fn millionths(text: &str) -> Option<u64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let whole: u64 = whole.parse().ok()?;
    let mut digits: String = fraction.chars().take(6).collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    while digits.len() < 6 {
        digits.push('0');
    }
    Some(whole * 1_000_000 + digits.parse::<u64>().ok()?)
}

/// The first sample of `metric` whose labels contain `labels` (e.g.
/// `loop="account-processor"`), in millionths.
pub fn metric_millionths(text: &str, metric: &str, labels: &str) -> Option<u64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find(|line| {
            line.split_once(['{', ' '])
                .is_some_and(|(name, _)| name == metric)
                && line.contains(labels)
        })
        .and_then(|line| millionths(line.rsplit(' ').next()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_metrics_without_floats() {
        assert_eq!(millionths("1.5"), Some(1_500_000));
        assert_eq!(millionths("12"), Some(12_000_000));
        assert_eq!(millionths("0.0001234567"), Some(123));
        assert_eq!(millionths("1e-3"), None);
        let text = "eventbank_txn_commit_seconds_sum{loop=\"a\"} 2.25\n\
                    eventbank_txn_commit_seconds_sum{loop=\"b\"} 1.0\n";
        assert_eq!(
            metric_millionths(text, "eventbank_txn_commit_seconds_sum", "loop=\"b\""),
            Some(1_000_000)
        );
    }

    #[test]
    fn sums_a_metric_over_its_labels() {
        let text = "# HELP x y\n\
                    eventbank_audit_records_total{topic=\"a\"} 10\n\
                    eventbank_audit_records_total{topic=\"b\"} 5\n\
                    eventbank_audit_records_totalish 7\n\
                    eventbank_audit_batches_total 3\n";
        assert_eq!(metric_sum(text, "eventbank_audit_records_total"), 15);
        assert_eq!(metric_sum(text, "eventbank_audit_batches_total"), 3);
        assert_eq!(metric_sum(text, "missing"), 0);
    }
}
