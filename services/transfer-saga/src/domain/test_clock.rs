//! The clock the saga's unit tests share: instants and time limits in whole
//! seconds, so a test reads as a timeline.

use chrono::{DateTime, TimeDelta, Utc};

use super::Timing;

/// `seconds` after a fixed instant.
pub(crate) fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + seconds, 0).expect("in range")
}

/// Time limits in seconds.
pub(crate) fn timing_secs(
    retry_after: i64,
    credit_deadline: i64,
    finished_retention: i64,
) -> Timing {
    Timing {
        retry_after: TimeDelta::seconds(retry_after),
        credit_deadline: TimeDelta::seconds(credit_deadline),
        finished_retention: TimeDelta::seconds(finished_retention),
    }
}
