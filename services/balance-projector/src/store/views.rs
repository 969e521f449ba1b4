//! Reading the views: an account, its history, a transfer, the
//! cross-account query, and the streams the projector stalled on.

use std::collections::HashMap;

use redis::AsyncCommands;
use serde::Serialize;

use super::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    pub account_id: String,
    pub holder: String,
    pub currency: String,
    #[schema(pattern = "^(open|closed)$")]
    pub status: String,
    pub balance: i64,
    pub version: u64,
    pub opened_at: String,
    pub updated_at: String,
}

/// A transfer as the view holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TransferView {
    pub transfer_id: String,
    #[schema(pattern = "^(pending|completed|failed)$")]
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

impl Store {
    pub async fn account(&self, id: &str) -> Result<Option<AccountView>, StoreError> {
        self.calls
            .time("read_account", async {
                let mut conn = self.conn.clone();
                let fields: HashMap<String, String> = conn.hgetall(self.key("acct", id)).await?;
                Ok(account_from_fields(id, &fields))
            })
            .await
    }

    /// History entries, newest first, with sequence `< before` when given.
    pub async fn history(
        &self,
        id: &str,
        limit: usize,
        before: Option<u64>,
    ) -> Result<Vec<serde_json::Value>, StoreError> {
        self.calls
            .time("read_history", async {
                let mut conn = self.conn.clone();
                let max = before.map_or_else(|| "+inf".to_owned(), |before| format!("({before}"));
                let members: Vec<String> = redis::cmd("ZRANGE")
                    .arg(self.key("hist", id))
                    .arg(max)
                    .arg("-inf")
                    .arg("BYSCORE")
                    .arg("REV")
                    .arg("LIMIT")
                    .arg(0)
                    .arg(limit)
                    .query_async(&mut conn)
                    .await?;
                Ok(members
                    .iter()
                    .filter_map(|member| serde_json::from_str(member).ok())
                    .collect())
            })
            .await
    }

    pub async fn transfer(&self, id: &str) -> Result<Option<TransferView>, StoreError> {
        self.calls
            .time("read_transfer", async {
                let mut conn = self.conn.clone();
                let fields: HashMap<String, String> = conn.hgetall(self.key("xfer", id)).await?;
                let Some(status) = fields.get("status") else {
                    return Ok(None);
                };
                Ok(Some(TransferView {
                    transfer_id: id.to_owned(),
                    status: status.clone(),
                    reason: fields.get("reason").cloned(),
                    from: fields.get("from").cloned(),
                    to: fields.get("to").cloned(),
                    amount: fields.get("amount").and_then(|a| a.parse().ok()),
                    currency: fields.get("currency").cloned(),
                }))
            })
            .await
    }

    /// Accounts with `balance >= min_balance`, in `statuses`, lowest balance
    /// first (ties by account id), at most `limit`. Uses the balance indexes.
    pub async fn query(
        &self,
        min_balance: i64,
        statuses: &[&str],
        limit: usize,
    ) -> Result<Vec<AccountView>, StoreError> {
        self.calls
            .time("query_accounts", async {
                let mut conn = self.conn.clone();
                let mut found: Vec<String> = Vec::new();
                for status in statuses {
                    // The lowest `limit` of each index; their union holds the answer.
                    let members: Vec<String> = redis::cmd("ZRANGE")
                        .arg(format!("{}idx:{status}", self.base))
                        .arg(min_balance)
                        .arg("+inf")
                        .arg("BYSCORE")
                        .arg("LIMIT")
                        .arg(0)
                        .arg(limit)
                        .query_async(&mut conn)
                        .await?;
                    found.extend(members);
                }
                if found.is_empty() {
                    return Ok(Vec::new());
                }
                let mut pipe = redis::pipe();
                for id in &found {
                    pipe.hgetall(self.key("acct", id));
                }
                let hashes: Vec<HashMap<String, String>> = pipe.query_async(&mut conn).await?;
                let mut accounts: Vec<AccountView> = found
                    .iter()
                    .zip(hashes.iter())
                    .filter_map(|(id, fields)| account_from_fields(id, fields))
                    .filter(|account| account.balance >= min_balance)
                    .collect();
                accounts.sort_by(|a, b| {
                    a.balance
                        .cmp(&b.balance)
                        .then_with(|| a.account_id.cmp(&b.account_id))
                });
                accounts.truncate(limit);
                Ok(accounts)
            })
            .await
    }

    /// Every account in the view, by scanning its keys (for tests and checks,
    /// not for serving).
    pub async fn scan_accounts(&self) -> Result<Vec<AccountView>, StoreError> {
        let mut conn = self.conn.clone();
        let pattern = format!("{}acct:*", self.base);
        let mut keys: Vec<String> = Vec::new();
        {
            let mut iter = conn.scan_match::<_, String>(&pattern).await?;
            while let Some(key) = futures::StreamExt::next(&mut iter).await {
                keys.push(key?);
            }
        }
        let mut accounts = Vec::new();
        for key in keys {
            let id = key.rsplit(':').next().unwrap_or_default().to_owned();
            let fields: HashMap<String, String> = conn.hgetall(&key).await?;
            if let Some(account) = account_from_fields(&id, &fields) {
                accounts.push(account);
            }
        }
        Ok(accounts)
    }

    /// Streams the projector refused to advance, with why.
    pub async fn stalled_accounts(&self) -> Result<HashMap<String, String>, StoreError> {
        let mut conn = self.conn.clone();
        Ok(conn.hgetall(format!("{}stalled:acct", self.base)).await?)
    }
}

fn account_from_fields(id: &str, fields: &HashMap<String, String>) -> Option<AccountView> {
    let version = fields.get("version")?.parse().ok()?;
    Some(AccountView {
        account_id: id.to_owned(),
        holder: fields.get("holder").cloned().unwrap_or_default(),
        currency: fields.get("currency").cloned().unwrap_or_default(),
        status: fields.get("status").cloned().unwrap_or_default(),
        balance: fields.get("balance")?.parse().ok()?,
        version,
        opened_at: fields.get("opened_at").cloned().unwrap_or_default(),
        updated_at: fields.get("updated_at").cloned().unwrap_or_default(),
    })
}
