//! Per-partition lag for `/metrics`: the end of each assigned partition minus
//! what is recorded; and, from each partition's start, the retention gaps of
//! partitions where nothing new arrives (see [`super::gaps`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use tokio_util::sync::CancellationToken;

use super::{KnownOffsets, SeekOnAssign, gaps};
use crate::db::{Db, DbError};
use crate::metrics::AuditMetrics;
use crate::store::{self, RetentionGap};

pub async fn measure_loop(
    consumer: Arc<StreamConsumer<SeekOnAssign>>,
    offsets: KnownOffsets,
    idle: Arc<AtomicBool>,
    db: Db,
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
            Ok(Ok(measured)) => {
                let mut lost = Vec::new();
                for m in measured {
                    metrics.lag(&m.topic, m.partition, m.lag);
                    if let Some((from_offset, to_offset)) = gaps::lost_while_idle(m.recorded, m.low)
                    {
                        lost.push(RetentionGap {
                            topic: m.topic,
                            partition: m.partition,
                            from_offset,
                            to_offset,
                        });
                    }
                }
                if !lost.is_empty() {
                    record(&db, lost, &metrics).await;
                }
            }
            Ok(Err(err)) => tracing::debug!(error = %err, "lag measurement failed"),
            Err(_) => {}
        }
    }
}

async fn record(db: &Db, lost: Vec<RetentionGap>, metrics: &AuditMetrics) {
    let recorded = match db.connect().await {
        Ok(client) => store::record_gaps(&client, lost)
            .await
            .map_err(DbError::from),
        Err(err) => Err(err),
    };
    match recorded {
        Ok(new) => gaps::report(&new, metrics),
        // The next probe finds them again.
        Err(err) => tracing::warn!(error = %err, "recording a retention gap failed"),
    }
}

struct Measured {
    topic: String,
    partition: i32,
    lag: i64,
    low: i64,
    recorded: i64,
}

fn measure(
    consumer: &StreamConsumer<SeekOnAssign>,
    offsets: &KnownOffsets,
    idle: &AtomicBool,
) -> Result<Vec<Measured>, KafkaError> {
    let assignment = consumer.assignment()?;
    let idle_before = idle.load(Ordering::SeqCst);
    let position = consumer.position()?;
    let idle = idle_before && idle.load(Ordering::SeqCst);
    let mut lags = Vec::new();
    for elem in assignment.elements() {
        let (topic, partition) = (elem.topic(), elem.partition());
        let (low, high) = consumer.fetch_watermarks(topic, partition, Duration::from_secs(5))?;
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
        lags.push(Measured {
            topic: topic.to_owned(),
            partition,
            lag: (high - at).max(0),
            low,
            recorded,
        });
    }
    Ok(lags)
}
