//! What this instance knows about command outcomes: a bounded cache of the
//! results read from `command-results`, the requests waiting for one, and, for
//! the commands this instance sent, what their response body needs besides
//! the result (the holder of a new account, a transfer's id).
//!
//! A request registers its [`Waiter`] *before* producing its command, so a
//! result that arrives before the producer's acknowledgement still wakes it;
//! a waiter registered after the result arrived is complete at once.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use eventbank_events::{CommandId, CommandResult};
use tokio::sync::oneshot;

use super::cache::BoundedCache;
use super::outcome_responses::CommandContext;

/// Cheap to clone; every clone is the same store.
#[derive(Debug, Clone)]
pub struct ResultStore {
    inner: Arc<Mutex<Inner>>,
}

/// The requests waiting for one command's result, each with a unique token.
type Waiting = Vec<(u64, oneshot::Sender<Arc<CommandResult>>)>;

#[derive(Debug)]
struct Inner {
    results: BoundedCache<CommandId, Arc<CommandResult>>,
    contexts: BoundedCache<CommandId, CommandContext>,
    waiters: HashMap<CommandId, Waiting>,
    next_token: u64,
}

impl ResultStore {
    /// Keeps the newest `capacity` results (and as many request contexts).
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                results: BoundedCache::new(capacity),
                contexts: BoundedCache::new(capacity),
                waiters: HashMap::new(),
                next_token: 0,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every critical section leaves the maps consistent, so a panic in
        // another thread holding the lock leaves nothing half-done.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The result of `command_id`, if it has been seen and not yet evicted.
    pub fn get(&self, command_id: CommandId) -> Option<Arc<CommandResult>> {
        self.lock().results.get(&command_id).cloned()
    }

    /// What the response to `command_id` needs besides its result, if this
    /// instance sent it.
    pub fn context(&self, command_id: CommandId) -> Option<CommandContext> {
        self.lock().contexts.get(&command_id).cloned()
    }

    /// Keeps the first request's context: a later request under the same
    /// id (a retry, or a reused key refused with 422) must not change what
    /// the answer to the original says.
    pub fn remember_context(&self, command_id: CommandId, context: CommandContext) {
        let mut inner = self.lock();
        if inner.contexts.get(&command_id).is_none() {
            inner.contexts.insert(command_id, context);
        }
    }

    /// Registers interest in the result of `command_id`. Call it before
    /// producing the command. Dropping the waiter unregisters it.
    pub fn wait_for(&self, command_id: CommandId) -> Waiter {
        let (sender, receiver) = oneshot::channel();
        let mut inner = self.lock();
        let token = inner.next_token;
        inner.next_token = inner.next_token.wrapping_add(1);
        match inner.results.get(&command_id) {
            Some(result) => {
                // The receiver is alive (it is in our hands), so this cannot fail.
                let _ = sender.send(Arc::clone(result));
            }
            None => inner
                .waiters
                .entry(command_id)
                .or_default()
                .push((token, sender)),
        }
        drop(inner);
        Waiter {
            command_id,
            token,
            receiver,
            store: self.clone(),
        }
    }

    /// Stores `result` and wakes every request waiting for it. Returns how
    /// many were woken.
    pub fn complete(&self, result: CommandResult) -> usize {
        let command_id = result.command_id;
        // A refused reuse of the id is the answer to one request, not the
        // command's outcome: cached, it would shadow the real one.
        let cache = !super::dispatch::is_reuse_refusal(&result);
        let result = Arc::new(result);
        let mut inner = self.lock();
        if cache {
            inner.results.insert(command_id, Arc::clone(&result));
        }
        let waiters = inner.waiters.remove(&command_id).unwrap_or_default();
        drop(inner);
        waiters
            .into_iter()
            .map(|(_, sender)| sender.send(Arc::clone(&result)))
            .filter(Result::is_ok)
            .count()
    }

    /// How many results are cached.
    pub fn len(&self) -> usize {
        self.lock().results.len()
    }

    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.lock().waiters.values().map(Vec::len).sum()
    }
}

/// One request's interest in one command's result.
#[derive(Debug)]
pub struct Waiter {
    command_id: CommandId,
    token: u64,
    receiver: oneshot::Receiver<Arc<CommandResult>>,
    store: ResultStore,
}

impl Waiter {
    /// Resolves when the result arrives. Cancel-safe: wrap it in a timeout and
    /// call it again, or drop the waiter.
    pub async fn result(&mut self) -> Option<Arc<CommandResult>> {
        (&mut self.receiver).await.ok()
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        let mut inner = self.store.lock();
        if let Entry::Occupied(mut entry) = inner.waiters.entry(self.command_id) {
            entry.get_mut().retain(|(token, _)| *token != self.token);
            if entry.get().is_empty() {
                entry.remove();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use eventbank_events::AccountId;

    use super::*;
    use crate::api::test_results::accepted;

    fn result(command_id: CommandId) -> CommandResult {
        accepted(command_id, AccountId::new(), 1, 0)
    }

    #[tokio::test]
    async fn a_registered_waiter_is_completed_by_its_result() {
        let store = ResultStore::new(10);
        let id = CommandId::new();
        let mut waiter = store.wait_for(id);
        let mut other = store.wait_for(CommandId::new());
        assert_eq!(store.complete(result(id)), 1);
        let got = waiter.result().await.expect("completed");
        assert_eq!(got.command_id, id);
        assert!(
            tokio::time::timeout(Duration::from_millis(20), other.result())
                .await
                .is_err(),
            "another command's waiter stays pending"
        );
        assert_eq!(store.get(id).map(|r| r.command_id), Some(id));
    }

    #[tokio::test]
    async fn a_waiter_registered_after_the_result_is_complete_at_once() {
        let store = ResultStore::new(10);
        let id = CommandId::new();
        assert_eq!(store.complete(result(id)), 0);
        let mut waiter = store.wait_for(id);
        assert_eq!(store.waiting(), 0);
        assert_eq!(waiter.result().await.map(|r| r.command_id), Some(id));
    }

    #[tokio::test]
    async fn every_waiter_for_a_command_is_woken() {
        let store = ResultStore::new(10);
        let id = CommandId::new();
        let mut first = store.wait_for(id);
        let mut second = store.wait_for(id);
        assert_eq!(store.complete(result(id)), 2);
        assert!(first.result().await.is_some());
        assert!(second.result().await.is_some());
    }

    #[test]
    fn dropping_a_waiter_unregisters_only_it() {
        let store = ResultStore::new(10);
        let id = CommandId::new();
        let first = store.wait_for(id);
        let second = store.wait_for(id);
        assert_eq!(store.waiting(), 2);
        drop(first);
        assert_eq!(store.waiting(), 1);
        drop(second);
        assert_eq!(store.waiting(), 0);
        assert_eq!(store.complete(result(id)), 0);
    }

    #[test]
    fn results_are_bounded() {
        let store = ResultStore::new(2);
        let ids: Vec<CommandId> = (0..3).map(|_| CommandId::new()).collect();
        for id in &ids {
            store.complete(result(*id));
        }
        assert_eq!(store.len(), 2);
        assert!(store.get(ids[0]).is_none(), "the oldest is evicted");
        assert!(store.get(ids[2]).is_some());
    }
}
