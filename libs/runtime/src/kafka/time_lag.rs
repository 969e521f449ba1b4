//! Consumer lag in time: how long a partition's unread records have waited,
//! estimated from what a consumer already knows (no extra fetch).
//!
//! Two clocks bound it, each wrong alone: the age of the last record handled
//! (too high when a quiet partition receives one new record: it reads as the
//! hour of silence before it) and how long the partition has been behind at
//! every measurement in a row (too high under a steady trickle, where a few
//! offsets are always in flight). A consumer that is truly stuck grows both,
//! so the estimate is the lesser: an alert on it does not fire for a quiet
//! partition or a busy one, and does fire for a stalled one.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use super::OwnedRecord;

/// Per partition: the timestamp of the last record handled, and since when
/// every measurement found the partition behind.
#[derive(Debug, Default)]
pub struct TimeLag {
    last_handled_ms: HashMap<(String, i32), i64>,
    behind_since_ms: HashMap<(String, i32), i64>,
}

impl TimeLag {
    /// A record of `topic`/`partition` produced at `timestamp_ms` was handled.
    pub fn handled(&mut self, topic: &str, partition: i32, timestamp_ms: i64) {
        match self.last_handled_ms.get_mut(&(topic.to_owned(), partition)) {
            Some(last) => *last = (*last).max(timestamp_ms),
            None => {
                self.last_handled_ms
                    .insert((topic.to_owned(), partition), timestamp_ms);
            }
        }
    }

    /// Every record of a batch was handled: one update per partition, not
    /// per record (the batch's records arrive in order per partition).
    pub fn handled_all<'a>(&mut self, records: impl IntoIterator<Item = &'a OwnedRecord>) {
        let mut latest: BTreeMap<(&str, i32), i64> = BTreeMap::new();
        for record in records {
            if let Some(timestamp) = record.timestamp_ms {
                let entry = latest
                    .entry((record.topic.as_str(), record.partition))
                    .or_insert(timestamp);
                *entry = (*entry).max(timestamp);
            }
        }
        for ((topic, partition), timestamp) in latest {
            self.handled(topic, partition, timestamp);
        }
    }

    /// The partition is `lag` offsets behind at `now_ms`: how long its
    /// unread records have waited (zero when it is not behind).
    pub fn measure(&mut self, topic: &str, partition: i32, lag: i64, now_ms: i64) -> Duration {
        let key = (topic.to_owned(), partition);
        if lag <= 0 {
            self.behind_since_ms.remove(&key);
            return Duration::ZERO;
        }
        let since = *self.behind_since_ms.entry(key.clone()).or_insert(now_ms);
        let behind_for = now_ms - since;
        let waited = match self.last_handled_ms.get(&key) {
            Some(last) => behind_for.min(now_ms - last),
            None => behind_for,
        };
        Duration::from_millis(u64::try_from(waited).unwrap_or(0))
    }

    /// Forgets partitions no longer assigned.
    pub fn retain(&mut self, assigned: impl Fn(&str, i32) -> bool) {
        self.last_handled_ms.retain(|(t, p), _| assigned(t, *p));
        self.behind_since_ms.retain(|(t, p), _| assigned(t, *p));
    }
}

/// Milliseconds since the Unix epoch (Kafka's timestamp unit).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    fn record(partition: i32, timestamp_ms: Option<i64>) -> OwnedRecord {
        OwnedRecord {
            topic: "t".to_owned(),
            partition,
            offset: 0,
            key: None,
            payload: None,
            headers: Vec::new(),
            timestamp_ms,
        }
    }

    #[test]
    fn a_batch_counts_as_its_latest_record_per_partition() {
        let mut lag = TimeLag::default();
        let batch = [
            record(0, Some(5 * MINUTE)),
            record(0, Some(4 * MINUTE)),
            record(1, None),
            record(1, Some(MINUTE)),
        ];
        lag.handled_all(&batch);
        assert_eq!(lag.last_handled_ms[&("t".to_owned(), 0)], 5 * MINUTE);
        assert_eq!(lag.last_handled_ms[&("t".to_owned(), 1)], MINUTE);
        assert_eq!(lag.last_handled_ms.len(), 2);
    }

    #[test]
    fn a_partition_at_its_end_has_waited_nothing() {
        let mut lag = TimeLag::default();
        lag.handled("t", 0, 0);
        assert_eq!(lag.measure("t", 0, 0, 10 * MINUTE), Duration::ZERO);
    }

    #[test]
    fn a_quiet_partition_with_one_new_record_is_not_an_hour_behind() {
        let mut lag = TimeLag::default();
        lag.handled("t", 0, 0);
        // One record arrives after an hour's silence; the probe sees it unread.
        assert_eq!(lag.measure("t", 0, 1, 60 * MINUTE), Duration::ZERO);
        assert_eq!(
            lag.measure("t", 0, 1, 60 * MINUTE + 500),
            Duration::from_millis(500)
        );
    }

    #[test]
    fn a_busy_partition_always_a_little_behind_reads_as_the_age_of_its_last_record() {
        let mut lag = TimeLag::default();
        lag.measure("t", 0, 3, 0);
        for minute in 1..=30 {
            lag.handled("t", 0, minute * MINUTE - 200);
            assert_eq!(
                lag.measure("t", 0, 3, minute * MINUTE),
                Duration::from_millis(200)
            );
        }
    }

    #[test]
    fn a_stalled_partition_grows_by_the_clock() {
        let mut lag = TimeLag::default();
        lag.handled("t", 0, 0);
        lag.measure("t", 0, 5, MINUTE);
        assert_eq!(
            lag.measure("t", 0, 9, 11 * MINUTE),
            Duration::from_secs(600)
        );
        // Never handled anything: behind since first seen.
        lag.measure("t", 1, 5, MINUTE);
        assert_eq!(lag.measure("t", 1, 5, 3 * MINUTE), Duration::from_secs(120));
    }

    #[test]
    fn catching_up_resets_the_clock_and_revoked_partitions_are_forgotten() {
        let mut lag = TimeLag::default();
        lag.measure("t", 0, 5, 0);
        lag.measure("t", 0, 0, MINUTE);
        assert_eq!(
            lag.measure("t", 0, 1, 2 * MINUTE),
            Duration::ZERO,
            "behind again only from now"
        );
        lag.handled("t", 1, 0);
        lag.retain(|_, partition| partition == 0);
        assert!(!lag.last_handled_ms.contains_key(&("t".to_owned(), 1)));
        assert!(lag.behind_since_ms.contains_key(&("t".to_owned(), 0)));
    }
}
