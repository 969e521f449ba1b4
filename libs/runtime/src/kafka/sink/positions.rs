//! The next offset to read per partition, as far as the sink has it: what the
//! lag probe measures from, and what a final commit may store.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use rdkafka::{Offset, TopicPartitionList};

use super::Consumed;

/// Shared between the consumer loop (which advances it after each write)
/// and the lag probe (which reads it).
#[derive(Debug, Clone, Default)]
pub struct Positions(Arc<Mutex<HashMap<(String, i32), i64>>>);

impl Positions {
    pub fn new(start: HashMap<(String, i32), i64>) -> Self {
        Self(Arc::new(Mutex::new(start)))
    }

    pub fn snapshot(&self) -> HashMap<(String, i32), i64> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Moves each partition past `batch` (positions only move forward).
    pub fn advance(&self, next: &BTreeMap<(&str, i32), i64>) {
        let mut positions = self.0.lock().unwrap_or_else(PoisonError::into_inner);
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
        positions.advance(&next);
        assert_eq!(
            positions.snapshot(),
            HashMap::from([(("a".to_owned(), 0), 8), (("a".to_owned(), 1), 20)])
        );
    }
}
