//! Applying a batch of events: one script call per [`EVENTS_PER_CALL`]
//! events, all in one pipelined round trip on the writer connection.

use std::time::Duration;

use redis::Value;

use crate::apply::{ApplyCall, EVENTS_PER_CALL};

use super::{Event, Outcome, Store, StoreError};

pub(super) const APPLY_TIMEOUT: Duration = Duration::from_secs(10);

impl Store {
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
        let answers: Vec<Value> = match self
            .calls
            .time("apply_batch", pipe.query_async(&mut conn))
            .await
        {
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
}
