//! Partition assignment that starts where PostgreSQL says, not where Kafka's
//! committed offsets (never written by this service) would.
//!
//! librdkafka calls the rebalance callback inside a poll, on the consumer's
//! task; a database round trip there would block the runtime, so the
//! callback reads an in-memory copy of the stored offsets, loaded at start
//! and advanced after every commit. The copy can only lag the database (when
//! another instance recorded a partition meanwhile); then the consumer
//! re-reads records that the in-transaction offset check skips, so a stale
//! copy costs time, never correctness.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use eventbank_runtime::kafka::{GroupContext, OnAssign};
use rdkafka::{Offset, TopicPartitionList};

use crate::store::OffsetMap;

/// The stored offsets as last seen, shared with the consumer loop; and the
/// partitions assigned but not yet read since (see [`super::gaps`]).
#[derive(Debug, Clone, Default)]
pub struct KnownOffsets {
    offsets: Arc<Mutex<OffsetMap>>,
    unread: Arc<Mutex<HashSet<(String, i32)>>>,
}

impl KnownOffsets {
    pub fn new(offsets: OffsetMap) -> Self {
        Self {
            offsets: Arc::new(Mutex::new(offsets)),
            unread: Arc::default(),
        }
    }

    /// Where to start reading `topic`/`partition`, which is now assigned
    /// and unread.
    pub fn start(&self, topic: &str, partition: i32) -> Offset {
        self.unread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((topic.to_owned(), partition));
        self.offsets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(topic.to_owned(), partition))
            .map_or(Offset::Beginning, |next| Offset::Offset(*next))
    }

    /// Which of `partitions` have not been read since they were assigned.
    pub fn unread(&self, partitions: &[(String, i32)]) -> HashSet<(String, i32)> {
        let unread = self.unread.lock().unwrap_or_else(PoisonError::into_inner);
        partitions
            .iter()
            .filter(|key| unread.contains(*key))
            .cloned()
            .collect()
    }

    /// `partitions` have been read (a batch of theirs is recorded).
    pub fn read(&self, partitions: &[(String, i32)]) {
        let mut unread = self.unread.lock().unwrap_or_else(PoisonError::into_inner);
        for key in partitions {
            unread.remove(key);
        }
    }

    /// Records what a commit stored (offsets only move forward).
    pub fn advance(&self, committed: &OffsetMap) {
        let mut known = self.offsets.lock().unwrap_or_else(PoisonError::into_inner);
        for (key, next) in committed {
            let entry = known.entry(key.clone()).or_insert(*next);
            *entry = (*entry).max(*next);
        }
    }

    /// The stored offsets as last seen.
    pub fn snapshot(&self) -> OffsetMap {
        self.offsets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Consumer context that sets each newly assigned partition's start offset.
pub type SeekOnAssign = GroupContext<StartAtStored>;

/// Starts each newly assigned partition at its stored offset.
#[derive(Debug, Clone)]
pub struct StartAtStored(pub KnownOffsets);

impl OnAssign for StartAtStored {
    fn on_assign(&self, partitions: &mut TopicPartitionList) {
        let assigned: Vec<(String, i32)> = partitions
            .elements()
            .iter()
            .map(|elem| (elem.topic().to_owned(), elem.partition()))
            .collect();
        for (topic, partition) in &assigned {
            let start = self.0.start(topic, *partition);
            if let Err(error) = partitions.set_partition_offset(topic, *partition, start) {
                tracing::warn!(%error, %topic, partition, "cannot set the start offset");
            }
            tracing::info!(%topic, partition, ?start, "partition assigned");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_partitions_start_at_the_beginning_and_offsets_only_advance() {
        let known = KnownOffsets::new(OffsetMap::from([(("a".to_owned(), 0), 5)]));
        assert_eq!(known.start("a", 0), Offset::Offset(5));
        assert_eq!(known.start("a", 1), Offset::Beginning);
        known.advance(&OffsetMap::from([
            (("a".to_owned(), 0), 3),
            (("a".to_owned(), 1), 9),
        ]));
        let stored = known.snapshot();
        assert_eq!(stored.get(&("a".to_owned(), 0)), Some(&5));
        assert_eq!(stored.get(&("a".to_owned(), 1)), Some(&9));
    }
}
