//! Per-partition lag for `/metrics`: the end of each assigned partition minus
//! what is recorded.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use tokio_util::sync::CancellationToken;

use super::{KnownOffsets, SeekOnAssign};
use crate::metrics::AuditMetrics;

pub async fn measure_loop(
    consumer: Arc<StreamConsumer<SeekOnAssign>>,
    offsets: KnownOffsets,
    idle: Arc<AtomicBool>,
    metrics: AuditMetrics,
    interval: Duration,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        let (consumer, offsets, idle) = (Arc::clone(&consumer), offsets.clone(), Arc::clone(&idle));
        // librdkafka's metadata calls block; keep them off the runtime.
        let measured =
            tokio::task::spawn_blocking(move || measure(&consumer, &offsets, &idle)).await;
        match measured {
            Ok(Ok(lags)) => {
                for (topic, partition, lag) in lags {
                    metrics.lag(&topic, partition, lag);
                }
            }
            Ok(Err(err)) => tracing::debug!(error = %err, "lag measurement failed"),
            Err(_) => {}
        }
    }
}

fn measure(
    consumer: &StreamConsumer<SeekOnAssign>,
    offsets: &KnownOffsets,
    idle: &AtomicBool,
) -> Result<Vec<(String, i32, i64)>, KafkaError> {
    let assignment = consumer.assignment()?;
    let idle_before = idle.load(Ordering::SeqCst);
    let position = consumer.position()?;
    let idle = idle_before && idle.load(Ordering::SeqCst);
    let mut lags = Vec::new();
    for elem in assignment.elements() {
        let (topic, partition) = (elem.topic(), elem.partition());
        let (_, high) = consumer.fetch_watermarks(topic, partition, Duration::from_secs(5))?;
        let recorded = offsets.get(topic, partition).unwrap_or(0);
        // While idle, everything received is recorded, and the position also
        // steps over transaction markers, which no record covers.
        let consumed = position
            .find_partition(topic, partition)
            .and_then(|p| p.offset().to_raw())
            .unwrap_or(0);
        let at = if idle {
            recorded.max(consumed)
        } else {
            recorded
        };
        lags.push((topic.to_owned(), partition, (high - at).max(0)));
    }
    Ok(lags)
}
