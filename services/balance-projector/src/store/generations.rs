//! Generations of the read model: which one is served, handing out new
//! ones, switching over after a rebuild, the rebuild lock, and deleting a
//! generation no longer served.

use std::time::Duration;

use redis::{AsyncCommands, Script};

use super::{KeyScan, Store, StoreError, millis};

const SET_IF_EQUAL: &str = include_str!("../lua/set_if_equal.lua");
const RENEW_IF_HELD: &str = include_str!("../lua/renew_if_held.lua");
const RELEASE_IF_HELD: &str = include_str!("../lua/release_if_held.lua");

impl Store {
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
        let switched: i64 = Script::new(SET_IF_EQUAL)
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
        let renewed = self
            .if_lock_held(RENEW_IF_HELD, generation, Some(ttl))
            .await?;
        Ok(renewed == 1)
    }

    /// Releases the rebuild lock if the rebuild into `generation` holds it.
    pub async fn unlock_rebuild(&self, generation: u64) -> Result<(), StoreError> {
        self.if_lock_held(RELEASE_IF_HELD, generation, None).await?;
        Ok(())
    }

    /// Runs `script` on the rebuild lock as the rebuild into `generation`
    /// (its holder), with `ttl` as the script's second argument if given.
    async fn if_lock_held(
        &self,
        script: &str,
        generation: u64,
        ttl: Option<Duration>,
    ) -> Result<i64, StoreError> {
        let mut conn = self.conn.clone();
        let script = Script::new(script);
        let mut call = script.key(self.rebuild_lock_key());
        call.arg(generation);
        if let Some(ttl) = ttl {
            call.arg(millis(ttl));
        }
        Ok(call.invoke_async(&mut conn).await?)
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
        let batch = batch.max(1);
        let mut scan = KeyScan::prefixed(&self.at_generation(generation).base, batch);
        let mut pending: Vec<String> = Vec::new();
        let mut deleted: u64 = 0;
        loop {
            let page = scan.next_page(&mut conn).await?;
            let done = page.is_none();
            pending.extend(page.unwrap_or_default());
            // SCAN may return a key twice; UNLINK counts only what it removed.
            while pending.len() >= batch || (done && !pending.is_empty()) {
                let chunk: Vec<String> = pending.drain(..pending.len().min(batch)).collect();
                let removed: u64 = redis::cmd("UNLINK")
                    .arg(&chunk)
                    .query_async(&mut conn)
                    .await?;
                deleted += removed;
            }
            if done {
                return Ok(deleted);
            }
        }
    }
}
