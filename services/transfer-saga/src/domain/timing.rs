//! The saga's time limits: two for a running transfer, one for how long a
//! finished one is remembered.

use chrono::{DateTime, TimeDelta, Utc};

/// When to retry a stuck leg and when a credit expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// No progress for this long: issue the pending command again.
    pub retry_after: TimeDelta,
    /// A credit must be decided within this time of the debit.
    pub credit_deadline: TimeDelta,
    /// A finished transfer is remembered (and its state kept on
    /// `transfer-state`) for this long after it finished, then forgotten.
    pub finished_retention: TimeDelta,
}

/// Retries back off linearly up to this many times `retry_after`.
const MAX_BACKOFF: i32 = 10;

impl Timing {
    /// From configuration; saturates absurd values.
    pub fn from_settings(
        retry_after_ms: u64,
        credit_deadline_ms: u64,
        finished_retention_secs: u64,
    ) -> Self {
        let delta = |ms: u64| TimeDelta::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX / 2));
        Self {
            retry_after: delta(retry_after_ms),
            credit_deadline: delta(credit_deadline_ms),
            finished_retention: delta(finished_retention_secs.saturating_mul(1_000)),
        }
    }

    /// Whether `at` lies further back than the finished-transfer retention
    /// at `now`: a transfer that finished then (see [`finished_at`]) is to be
    /// forgotten, and a debit that occurred then is older than any finished
    /// transfer still remembered.
    pub fn is_past_retention(&self, at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        at < now - self.finished_retention
    }

    /// The deadline of the credit of a transfer debited at `debited_at`.
    pub fn credit_deadline_for(&self, debited_at: DateTime<Utc>) -> DateTime<Utc> {
        debited_at + self.credit_deadline
    }

    /// When a saga that last progressed at `since` and has issued its pending
    /// command `attempts` times is due for another attempt.
    pub fn next_retry(&self, since: DateTime<Utc>, attempts: u32) -> DateTime<Utc> {
        let factor = i32::try_from(attempts)
            .unwrap_or(MAX_BACKOFF)
            .clamp(1, MAX_BACKOFF);
        since + self.retry_after * factor
    }
}

/// When a finished saga counts as finished for its retention: its last
/// progress, or its debit's time should the account's clock run ahead of the
/// saga's. Never before the debit, so that a transfer is forgotten only once
/// its debit is past the retention too (see `decide`).
pub fn finished_at(state: &eventbank_events::TransferSagaSnapshot) -> DateTime<Utc> {
    state.last_progress_at.max(state.started_at)
}
