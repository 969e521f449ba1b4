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

mod apply_batch;
mod client;
mod generations;
mod key_scan;
mod views;

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

use eventbank_events::{AccountEventEnvelope, StreamId, TransferEventEnvelope};
use eventbank_runtime::http::StoreCalls;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script, Value};

use crate::apply::APPLY_SCRIPT;
use crate::settings::RedisSettings;

use apply_batch::APPLY_TIMEOUT;
pub use key_scan::KeyScan;
pub use views::{AccountView, TransferView};

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
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("unexpected answer from the apply script: {0:?}")]
    Unexpected(Value),
    #[error("redis.ca_file {path} cannot be read: {source}")]
    CaFile {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
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
    calls: StoreCalls,
}

eventbank_runtime::debug_fields!(Store { base });

/// An account as the view holds it.
impl Store {
    /// Connects as `settings` say (TLS, user, password), and resolves
    /// (creating if needed) the current generation.
    pub async fn open(settings: &RedisSettings) -> Result<Self, StoreError> {
        Self::with_client(settings.client()?, &settings.key_prefix).await
    }

    /// [`open`](Self::open) with only a URL (tests on the plaintext Redis).
    pub async fn connect(url: &str, key_prefix: &str) -> Result<Self, StoreError> {
        Self::with_client(redis::Client::open(url)?, key_prefix).await
    }

    async fn with_client(client: redis::Client, key_prefix: &str) -> Result<Self, StoreError> {
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
            calls: StoreCalls::unregistered("redis"),
        }
        .at_generation(generation);
        store.load_scripts().await?;
        Ok(store)
    }

    /// The same store, its calls timed on a service's metrics page.
    pub fn timed_by(self, calls: StoreCalls) -> Self {
        Self { calls, ..self }
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

    /// Is Redis reachable?
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.calls
            .time("ping", async {
                let mut conn = self.conn.clone();
                let _: String = redis::cmd("PING").query_async(&mut conn).await?;
                Ok(())
            })
            .await
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
