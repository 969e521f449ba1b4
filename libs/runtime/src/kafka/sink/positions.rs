//! The next offset to read per partition, as far as the sink has it: what the
//! lag probe measures from, and what a final commit may store. With it, the
//! timestamps of what was written, for the lag in time.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rdkafka::{Offset, TopicPartitionList};

use super::Consumed;
use crate::kafka::time_lag::TimeLag;

/// Shared between the consumer loop (which advances it after each write)
/// and the lag probe (which reads it).
#[derive(Debug, Clone, Default)]
pub struct Positions(Arc<Mutex<Written>>);

#[derive(Debug, Default)]
struct Written {
    next: HashMap<(String, i32), i64>,
    clock: TimeLag,
}

impl Positions {
    pub fn new(start: HashMap<(String, i32), i64>) -> Self {
        Self(Arc::new(Mutex::new(Written {
            next: start,
            clock: TimeLag::default(),
        })))
    }

    fn lock(&self) -> MutexGuard<'_, Written> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn snapshot(&self) -> HashMap<(String, i32), i64> {
        self.lock().next.clone()
    }

    /// How long the unread records of a partition `lag` offsets behind have
    /// waited (see [`TimeLag`]).
    pub fn waited(&self, topic: &str, partition: i32, lag: i64, now_ms: i64) -> Duration {
        self.lock().clock.measure(topic, partition, lag, now_ms)
    }

    /// Moves each partition past `batch` (positions only move forward).
    pub fn advance<T: Consumed>(&self, batch: &[T], next: &BTreeMap<(&str, i32), i64>) {
        let mut written = self.lock();
        written
            .clock
            .handled_all(batch.iter().map(Consumed::record));
        let positions = &mut written.next;
        for ((topic, partition), offset) in next {
            let entry = positions
                .entry(((*topic).to_owned(), *partition))
                .or_insert(0);
            *entry = (*entry).max(*offset);
        }
    }
}

/// The next offset per partition after `batch`.
pub fn after<T: Consumed>(batch: &[T]) -> BTreeMap<(&str, i32), i64> {
    let mut next: BTreeMap<(&str, i32), i64> = BTreeMap::new();
    for item in batch {
        let record = item.record();
        let entry = next
            .entry((record.topic.as_str(), record.partition))
            .or_insert(0);
        *entry = (*entry).max(record.offset + 1);
    }
    next
}

/// The commit of `next` offsets per (topic, partition).
pub fn offset_list<'a>(next: impl IntoIterator<Item = (&'a str, i32, i64)>) -> TopicPartitionList {
    let mut list = TopicPartitionList::new();
    for (topic, partition, offset) in next {
        if let Err(err) = list.add_partition_offset(topic, partition, Offset::Offset(offset)) {
            tracing::warn!(error = %err, "cannot build the offset commit");
        }
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::OwnedRecord;

    fn record(topic: &str, partition: i32, offset: i64) -> OwnedRecord {
        OwnedRecord {
            topic: topic.to_owned(),
            partition,
            offset,
            key: None,
            payload: None,
            headers: Vec::new(),
            timestamp_ms: None,
        }
    }

    #[test]
    fn a_batch_moves_each_partition_past_its_last_record_and_never_back() {
        let batch = [record("a", 0, 4), record("a", 1, 9), record("a", 0, 7)];
        let next = after(&batch);
        assert_eq!(next, BTreeMap::from([(("a", 0), 8), (("a", 1), 10)]));
        let positions = Positions::new(HashMap::from([(("a".to_owned(), 1), 20)]));
        positions.advance(&batch, &next);
        assert_eq!(
            positions.snapshot(),
            HashMap::from([(("a".to_owned(), 0), 8), (("a".to_owned(), 1), 20)])
        );
    }
}
