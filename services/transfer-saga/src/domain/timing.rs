//! The saga's two time limits.

use chrono::{DateTime, TimeDelta, Utc};

/// When to retry a stuck leg and when a credit expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// No progress for this long: issue the pending command again.
    pub retry_after: TimeDelta,
    /// A credit must be decided within this time of the debit.
    pub credit_deadline: TimeDelta,
}

/// Retries back off linearly up to this many times `retry_after`.
const MAX_BACKOFF: i32 = 10;

impl Timing {
    /// From milliseconds (configuration); saturates absurd values.
    pub fn from_millis(retry_after_ms: u64, credit_deadline_ms: u64) -> Self {
        let delta = |ms: u64| TimeDelta::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX / 2));
        Self {
            retry_after: delta(retry_after_ms),
            credit_deadline: delta(credit_deadline_ms),
        }
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
