//! The Redis read model.
//!
//! Every key lives under `{key_prefix}g{generation}:` (the generation is read
//! from `{key_prefix}generation`, set to 1 if absent):
//!
//! | key | type | content |
//! |---|---|---|
//! | `acct:{id}` | hash | holder, currency, status, balance, version, opened_at, updated_at |
//! | `hist:{id}` | sorted set | score = sequence, member = JSON history entry |
//! | `xfer:{id}` | hash | status (pending/completed/failed), reason, version (transfer stream), from, to, amount, currency |
//! | `idx:open`, `idx:closed` | sorted set | score = balance, member = account id |
//! | `stalled:acct`, `stalled:xfer` | hash | stream id → why it stalled (a sequence gap) |
//!
//! Outside any generation: `generation` (the served one),
//! `generations_allocated` (the highest handed out) and `rebuild_lock` (the
//! generation a running rebuild builds; it expires unless renewed).
//!
//! Events are applied by the script of [`crate::apply`], many per call,
//! each with its version check inside the script; a batch is one pipelined
//! round trip of such calls.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

use eventbank_events::{AccountEventEnvelope, StreamId, TransferEventEnvelope};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script, Value};
use serde::Serialize;

use crate::apply::{APPLY_SCRIPT, ApplyCall, EVENTS_PER_CALL};

/// What applying one event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The event was the next one of its stream and is now in the view.
    Applied,
    /// Already applied (sequence not newer than the stored version).
    Skipped,
    /// A gap: the sequence is beyond the next expected one. Not applied; the
    /// stream is now stalled.
    Gap,
    /// The stream stalled earlier; this event was not applied.
    Stalled,
    /// The first event of an account was not `AccountOpened`. Not applied;
    /// the stream is now stalled.
    Malformed,
}

impl Outcome {
    pub const fn label(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Skipped => "skipped",
            Self::Gap => "gap",
            Self::Stalled => "stalled",
            Self::Malformed => "malformed",
        }
    }

    fn from_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(Self::Applied),
            0 => Some(Self::Skipped),
            -1 => Some(Self::Gap),
            -2 => Some(Self::Stalled),
            -3 => Some(Self::Malformed),
            _ => None,
        }
    }
}

/// A decoded event of either topic.
#[derive(Debug, Clone)]
pub enum Event {
    Account(AccountEventEnvelope),
    Transfer(TransferEventEnvelope),
}

impl Event {
    /// The stream (account or transfer) the event belongs to.
    pub fn stream(&self) -> StreamId {
        match self {
            Self::Account(e) => e.stream_id,
            Self::Transfer(e) => e.stream_id,
        }
    }

    /// Its position in that stream.
    pub fn sequence(&self) -> u64 {
        match self {
            Self::Account(e) => e.sequence,
            Self::Transfer(e) => e.sequence,
        }
    }
}

/// How long one batch's round trip may take before it counts as failed.
const APPLY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("unexpected answer from the apply script: {0:?}")]
    Unexpected(Value),
}

/// The read model in Redis: applying events and reading views.
#[derive(Clone)]
pub struct Store {
    /// Reads, generations, locks: answers a reader waits for.
    conn: ConnectionManager,
    /// Applying batches, on a connection of its own: a multiplexed
    /// connection answers in order, so a read sharing it with the applies
    /// would wait behind a whole batch in flight.
    writer: ConnectionManager,
    key_prefix: String,
    generation: u64,
    base: String,
    apply_script: Arc<Script>,
    /// Woken after every applied batch, so a read waiting for a version
    /// re-reads at once instead of on its next poll.
    applied: Arc<Notify>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// An account as the view holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountView {
    pub account_id: String,
    pub holder: String,
    pub currency: String,
    pub status: String,
    pub balance: i64,
    pub version: u64,
    pub opened_at: String,
    pub updated_at: String,
}

/// A transfer as the view holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransferView {
    pub transfer_id: String,
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
    /// Connects, and resolves (creating if needed) the current generation.
    pub async fn connect(url: &str, key_prefix: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url)?;
        let mut conn = ConnectionManager::new(client.clone()).await?;
        // A batch is up to `projector.max_batch` events in one round trip;
        // on an overloaded machine that can outlast the default 500 ms, and
        // a timed-out batch is only applied again (idempotently) after a
        // back-off, which adds load where there is too much already.
        let writer = ConnectionManager::new_with_config(
            client,
            ConnectionManagerConfig::new().set_response_timeout(Some(APPLY_TIMEOUT)),
        )
        .await?;
        let generation_key = format!("{key_prefix}generation");
        let _: Option<String> = redis::cmd("SET")
            .arg(&generation_key)
            .arg(1)
            .arg("NX")
            .query_async(&mut conn)
            .await?;
        let generation: u64 = conn.get(&generation_key).await?;
        // The highest generation ever handed out, so two rebuilds never share one.
        let _: Option<String> = redis::cmd("SET")
            .arg(format!("{key_prefix}generations_allocated"))
            .arg(generation)
            .arg("NX")
            .query_async(&mut conn)
            .await?;
        let store = Self {
            conn,
            writer,
            key_prefix: key_prefix.to_owned(),
            generation,
            base: String::new(),
            apply_script: Arc::new(Script::new(APPLY_SCRIPT)),
            applied: Arc::new(Notify::new()),
        }
        .at_generation(generation);
        store.load_scripts().await?;
        Ok(store)
    }

    /// The same store, reading and writing generation `generation`.
    pub fn at_generation(&self, generation: u64) -> Self {
        Self {
            generation,
            base: format!("{}g{generation}:", self.key_prefix),
            ..self.clone()
        }
    }

    /// The generation this store reads and writes.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The key prefix of the generation this store reads and writes.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The generation queries are served from.
    pub async fn current_generation(&self) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        Ok(conn.get(format!("{}generation", self.key_prefix)).await?)
    }

    /// This store at the generation queries are currently served from.
    pub async fn serving(&self) -> Result<Self, StoreError> {
        let generation = self.current_generation().await?;
        Ok(if generation == self.generation {
            self.clone()
        } else {
            self.at_generation(generation)
        })
    }

    /// A generation number nobody has used yet.
    pub async fn allocate_generation(&self) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        Ok(conn
            .incr(format!("{}generations_allocated", self.key_prefix), 1)
            .await?)
    }

    /// Atomically makes `to` the served generation if `from` still is.
    pub async fn switch_generation(&self, from: u64, to: u64) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let switched: i64 = Script::new(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then \
               redis.call('SET', KEYS[1], ARGV[2]) return 1 end return 0",
        )
        .key(format!("{}generation", self.key_prefix))
        .arg(from)
        .arg(to)
        .invoke_async(&mut conn)
        .await?;
        Ok(switched == 1)
    }

    /// Takes the rebuild lock for the rebuild into `generation`, for `ttl`,
    /// unless another rebuild holds it: the lock lives in Redis, so it holds
    /// across every instance serving this keyspace, and it expires should
    /// its holder die.
    pub async fn lock_rebuild(&self, generation: u64, ttl: Duration) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let taken: Option<String> = redis::cmd("SET")
            .arg(self.rebuild_lock_key())
            .arg(generation)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl))
            .query_async(&mut conn)
            .await?;
        Ok(taken.is_some())
    }

    /// Extends the rebuild lock by `ttl` if the rebuild into `generation`
    /// still holds it.
    pub async fn renew_rebuild_lock(
        &self,
        generation: u64,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let renewed: i64 = Script::new(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then \
               return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0",
        )
        .key(self.rebuild_lock_key())
        .arg(generation)
        .arg(millis(ttl))
        .invoke_async(&mut conn)
        .await?;
        Ok(renewed == 1)
    }

    /// Releases the rebuild lock if the rebuild into `generation` holds it.
    pub async fn unlock_rebuild(&self, generation: u64) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let _: i64 = Script::new(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then \
               return redis.call('DEL', KEYS[1]) end return 0",
        )
        .key(self.rebuild_lock_key())
        .arg(generation)
        .invoke_async(&mut conn)
        .await?;
        Ok(())
    }

    fn rebuild_lock_key(&self) -> String {
        format!("{}rebuild_lock", self.key_prefix)
    }

    /// Deletes every key of `generation`: SCAN for its prefix, UNLINK (freed
    /// off Redis's main thread) in batches of `batch`, so neither a huge
    /// reply nor a long blocking delete reaches the serving path. Returns
    /// how many keys were deleted.
    pub async fn delete_generation(
        &self,
        generation: u64,
        batch: usize,
    ) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        let pattern = format!("{}*", glob_escape(&self.at_generation(generation).base));
        let batch = batch.max(1);
        let mut cursor: u64 = 0;
        let mut pending: Vec<String> = Vec::new();
        let mut deleted: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(batch)
                .query_async(&mut conn)
                .await?;
            pending.extend(keys);
            // SCAN may return a key twice; UNLINK counts only what it removed.
            while pending.len() >= batch || (next == 0 && !pending.is_empty()) {
                let chunk: Vec<String> = pending.drain(..pending.len().min(batch)).collect();
                let removed: u64 = redis::cmd("UNLINK")
                    .arg(&chunk)
                    .query_async(&mut conn)
                    .await?;
                deleted += removed;
            }
            if next == 0 {
                return Ok(deleted);
            }
            cursor = next;
        }
    }

    async fn load_scripts(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let _: String = redis::cmd("SCRIPT")
            .arg("LOAD")
            .arg(APPLY_SCRIPT)
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    fn key(&self, kind: &str, id: impl std::fmt::Display) -> String {
        format!("{}{kind}:{id}", self.base)
    }

    /// Notified after each batch this process applies (to any generation).
    /// Only this process's projectors notify: a reader must still poll for
    /// partitions projected elsewhere.
    pub fn applied(&self) -> Arc<Notify> {
        Arc::clone(&self.applied)
    }

    /// Applies `events` in order: one script call per [`EVENTS_PER_CALL`]
    /// events, all in one pipelined round trip. Safe to repeat: the script
    /// skips what is already applied.
    pub async fn apply(&self, events: &[&Event]) -> Result<Vec<Outcome>, StoreError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        // Grouped by stream (a stable sort keeps each stream's order), so a
        // call meets an account's events in a row and writes it once; streams
        // are independent of each other, so their interleaving is free.
        let mut order: Vec<usize> = (0..events.len()).collect();
        order.sort_by_key(|&i| events[i].stream());
        let sorted: Vec<&Event> = order.iter().map(|&i| events[i]).collect();
        let mut pipe = redis::pipe();
        for chunk in sorted.chunks(EVENTS_PER_CALL) {
            pipe.add_command(
                ApplyCall::encode(&self.base, chunk).command(self.apply_script.get_hash()),
            );
        }
        let mut conn = self.writer.clone();
        let answers: Vec<Value> = match pipe.query_async(&mut conn).await {
            Ok(answers) => answers,
            Err(err)
                if err.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) =>
            {
                // Redis restarted or flushed its script cache: load and redo
                // the whole batch (applying is idempotent).
                self.load_scripts().await?;
                pipe.query_async(&mut conn).await?
            }
            Err(err) => return Err(err.into()),
        };
        self.applied.notify_waiters();
        let mut outcomes = Vec::with_capacity(events.len());
        for answer in answers {
            let Value::Array(codes) = answer else {
                return Err(StoreError::Unexpected(answer));
            };
            for code in codes {
                match code {
                    Value::Int(code) => outcomes.push(
                        Outcome::from_code(code).ok_or(StoreError::Unexpected(Value::Int(code)))?,
                    ),
                    other => return Err(StoreError::Unexpected(other)),
                }
            }
        }
        if outcomes.len() != events.len() {
            return Err(StoreError::Unexpected(Value::Int(
                i64::try_from(outcomes.len()).unwrap_or(i64::MAX),
            )));
        }
        // Back in the caller's order.
        let mut in_order = vec![Outcome::Skipped; events.len()];
        for (position, outcome) in order.into_iter().zip(outcomes) {
            in_order[position] = outcome;
        }
        Ok(in_order)
    }

    pub async fn account(&self, id: &str) -> Result<Option<AccountView>, StoreError> {
        let mut conn = self.conn.clone();
        let fields: HashMap<String, String> = conn.hgetall(self.key("acct", id)).await?;
        Ok(account_from_fields(id, &fields))
    }

    /// History entries, newest first, with sequence `< before` when given.
    pub async fn history(
        &self,
        id: &str,
        limit: usize,
        before: Option<u64>,
    ) -> Result<Vec<serde_json::Value>, StoreError> {
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
    }

    pub async fn transfer(&self, id: &str) -> Result<Option<TransferView>, StoreError> {
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
    }

    /// Accounts with `balance >= min_balance`, in `statuses`, lowest balance
    /// first (ties by account id), at most `limit`. Uses the balance indexes.
    pub async fn query(
        &self,
        min_balance: i64,
        statuses: &[&str],
        limit: usize,
    ) -> Result<Vec<AccountView>, StoreError> {
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

    /// Is Redis reachable?
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// `text` matching only itself in a Redis glob pattern.
fn glob_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
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

#[cfg(test)]
mod tests {
    use super::glob_escape;

    #[test]
    fn a_key_prefix_matches_only_itself_in_a_scan_pattern() {
        assert_eq!(glob_escape("eventbank:g1:"), "eventbank:g1:");
        assert_eq!(glob_escape("t*[1]?\\:"), "t\\*\\[1\\]\\?\\\\:");
    }
}
