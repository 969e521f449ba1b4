//! Watching `transfer-events` for the moment each transfer ends: one
//! `read_committed` consumer for a whole run instead of polling the read
//! model for every transfer (which would load the projector far more than
//! the transfers do).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eventbank_events::{TopicKind, TransferEventEnvelope, wire};
use eventbank_runtime::kafka::KafkaSettings;
use futures::StreamExt;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[derive(Debug, Default)]
struct Waiting {
    /// Transfers someone waits for.
    waiters: HashMap<String, oneshot::Sender<Instant>>,
    /// Transfers that ended before anyone asked (a fast saga can beat the
    /// client's reading of its own 202).
    ended: HashMap<String, Instant>,
}

/// Tells when a transfer's `TransferCompleted` or `TransferFailed` was
/// committed (as seen by this process). Cheap to clone.
#[derive(Debug, Clone)]
pub struct TransferWatcher {
    waiting: Arc<Mutex<Waiting>>,
    task: Arc<JoinHandle<()>>,
}

impl TransferWatcher {
    /// Starts reading `transfer-events` from its current end (every
    /// partition's high watermark now), so only transfers that end from now
    /// on are seen.
    pub async fn start(kafka: &KafkaSettings, group: &str) -> anyhow::Result<Self> {
        let topic = kafka.topics().name(TopicKind::TransferEvents);
        let consumer: StreamConsumer = kafka.consumer_config(group).create()?;
        let metadata = consumer.fetch_metadata(Some(&topic), Duration::from_secs(10))?;
        let partitions: Vec<i32> = metadata
            .topics()
            .iter()
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        anyhow::ensure!(!partitions.is_empty(), "topic {topic} has no partitions");
        let mut assignment = TopicPartitionList::new();
        for partition in partitions {
            let (_, high) =
                consumer.fetch_watermarks(&topic, partition, Duration::from_secs(10))?;
            assignment.add_partition_offset(&topic, partition, Offset::Offset(high))?;
        }
        consumer.assign(&assignment)?;
        let waiting = Arc::new(Mutex::new(Waiting::default()));
        let task = tokio::spawn(read(consumer, waiting.clone()));
        Ok(Self {
            waiting,
            task: Arc::new(task),
        })
    }

    /// When `transfer` ended, waiting at most `limit` for it.
    pub async fn wait(&self, transfer: &str, limit: Duration) -> Option<Instant> {
        let receiver = {
            let mut waiting = self.waiting.lock().ok()?;
            if let Some(at) = waiting.ended.remove(transfer) {
                return Some(at);
            }
            let (sender, receiver) = oneshot::channel();
            waiting.waiters.insert(transfer.to_owned(), sender);
            receiver
        };
        let at = tokio::time::timeout(limit, receiver).await.ok()?.ok();
        if at.is_none()
            && let Ok(mut waiting) = self.waiting.lock()
        {
            waiting.waiters.remove(transfer);
        }
        at
    }

    /// Stops reading.
    pub fn stop(&self) {
        self.task.abort();
    }
}

async fn read(consumer: StreamConsumer, waiting: Arc<Mutex<Waiting>>) {
    let mut stream = consumer.stream();
    while let Some(message) = stream.next().await {
        let Ok(message) = message else { continue };
        let at = Instant::now();
        let Some(payload) = message.payload() else {
            continue;
        };
        let Ok(envelope) = wire::decode::<TransferEventEnvelope>(payload) else {
            continue;
        };
        let id = envelope.transfer_id().to_string();
        let Ok(mut waiting) = waiting.lock() else {
            return;
        };
        match waiting.waiters.remove(&id) {
            Some(sender) => {
                let _ = sender.send(at);
            }
            None => {
                waiting.ended.insert(id, at);
            }
        }
    }
}
