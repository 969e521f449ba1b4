//! The lag probe: every interval, how far each assigned partition's end is
//! past what the sink has, handed to the service's [`LagObserver`] (metrics,
//! readiness, progress, retention gaps: what it means is the service's).
//!
//! librdkafka's metadata calls block, so the measurement runs on a blocking
//! thread, off the runtime.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rdkafka::TopicPartitionList;
use rdkafka::consumer::{Consumer, ConsumerContext, StreamConsumer};
use rdkafka::error::KafkaError;
use tokio_util::sync::CancellationToken;

use super::positions::Positions;
use crate::kafka::time_lag::now_ms;

const METADATA_TIMEOUT: Duration = Duration::from_secs(5);

/// One assigned partition, measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionLag {
    pub topic: String,
    pub partition: i32,
    /// Where the partition starts now (retention moves it).
    pub low: i64,
    /// Its end (a `read_committed` consumer is told the last stable offset).
    pub high: i64,
    /// The next offset the sink needs: all before it is written.
    pub applied: i64,
    /// Offsets between what is written and the end.
    pub lag: i64,
    /// How long the unwritten records have waited (an estimate, see
    /// `kafka::time_lag`; zero when `lag` is).
    pub waited: Duration,
}

/// One measurement of every assigned partition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lags {
    pub partitions: Vec<PartitionLag>,
    /// How many partitions the subscribed topics have in all.
    pub subscribed: usize,
}

impl Lags {
    /// Every assigned partition is written to its end (and one is assigned).
    pub fn caught_up(&self) -> bool {
        !self.partitions.is_empty() && self.partitions.iter().all(|p| p.lag == 0)
    }

    /// This consumer is assigned every partition of its topics.
    pub fn all_partitions(&self) -> bool {
        self.partitions.len() == self.subscribed
    }

    /// Offsets not yet written, summed over the assigned partitions.
    pub fn behind(&self) -> i64 {
        self.partitions.iter().map(|p| p.lag).sum()
    }
}

/// What a service does with each measurement.
pub trait LagObserver: Send + Sync + 'static {
    fn observe(&self, lags: Lags) -> impl Future<Output = ()> + Send;
}

/// What the probe reads from.
pub(super) struct Probe<C: ConsumerContext + 'static> {
    pub consumer: Arc<StreamConsumer<C>>,
    pub positions: Positions,
    pub idle: Arc<AtomicBool>,
    /// Also trust the group's committed offsets (a restart with nothing new
    /// to read delivers no record to learn them from).
    pub group_committed: bool,
    pub topics: Vec<String>,
}

impl<C: ConsumerContext + 'static> Probe<C> {
    pub async fn run<L: LagObserver>(
        self,
        observer: Arc<L>,
        interval: Duration,
        shutdown: CancellationToken,
    ) {
        let probe = Arc::new(self);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(interval) => {}
            }
            let measuring = Arc::clone(&probe);
            match tokio::task::spawn_blocking(move || measuring.measure()).await {
                Ok(Ok(lags)) => observer.observe(lags).await,
                Ok(Err(err)) => tracing::debug!(error = %err, "lag measurement failed"),
                Err(_) => {}
            }
        }
    }

    fn measure(&self) -> Result<Lags, KafkaError> {
        let consumer = &self.consumer;
        let assignment = consumer.assignment()?;
        let group_committed = if self.group_committed && assignment.count() > 0 {
            consumer.committed_offsets(assignment.clone(), METADATA_TIMEOUT)?
        } else {
            TopicPartitionList::new()
        };
        let idle_before = self.idle.load(Ordering::SeqCst);
        let position = consumer.position()?;
        let idle = idle_before && self.idle.load(Ordering::SeqCst);
        let written = self.positions.snapshot();
        let now = now_ms();
        let mut partitions = Vec::new();
        for elem in assignment.elements() {
            let (topic, partition) = (elem.topic(), elem.partition());
            let (low, high) = consumer.fetch_watermarks(topic, partition, METADATA_TIMEOUT)?;
            let offset_in = |list: &TopicPartitionList| {
                list.find_partition(topic, partition)
                    .and_then(|p| p.offset().to_raw())
                    .unwrap_or(0)
            };
            let applied = written
                .get(&(topic.to_owned(), partition))
                .copied()
                .unwrap_or(0)
                .max(offset_in(&group_committed));
            // The consumer's position runs ahead of what is written while a
            // batch is in hand; when the loop is idle everything received is
            // written, and the position (which also steps over transaction
            // markers, which no record covers) counts.
            let at = if idle {
                applied.max(offset_in(&position))
            } else {
                applied
            };
            let lag = (high - at).max(0);
            partitions.push(PartitionLag {
                topic: topic.to_owned(),
                partition,
                low,
                high,
                applied,
                lag,
                waited: self.positions.waited(topic, partition, lag, now),
            });
        }
        let mut subscribed = 0;
        for topic in &self.topics {
            let metadata = consumer.fetch_metadata(Some(topic), METADATA_TIMEOUT)?;
            subscribed += metadata
                .topics()
                .iter()
                .filter(|meta| meta.name() == topic)
                .map(|meta| meta.partitions().len())
                .sum::<usize>();
        }
        Ok(Lags {
            partitions,
            subscribed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lag(partition: i32, lag: i64) -> PartitionLag {
        PartitionLag {
            topic: "t".into(),
            partition,
            low: 0,
            high: 10,
            applied: 10 - lag,
            lag,
            waited: Duration::ZERO,
        }
    }

    #[test]
    fn caught_up_needs_an_assignment_and_every_partition_at_its_end() {
        let none = Lags::default();
        assert!(!none.caught_up());
        let behind = Lags {
            partitions: vec![lag(0, 0), lag(1, 3)],
            subscribed: 3,
        };
        assert!(!behind.caught_up());
        assert!(!behind.all_partitions());
        assert_eq!(behind.behind(), 3);
        let done = Lags {
            partitions: vec![lag(0, 0), lag(1, 0)],
            subscribed: 2,
        };
        assert!(done.caught_up());
        assert!(done.all_partitions());
    }
}
