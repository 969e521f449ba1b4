//! What the audit log makes of each lag measurement: the lag metric, and,
//! from each partition's start, the retention gaps of partitions where
//! nothing new arrives (see [`super::gaps`]).

use eventbank_runtime::kafka::sink::{LagObserver, Lags};

use super::gaps;
use crate::db::{Db, DbError};
use crate::metrics::AuditMetrics;
use crate::store::{self, RetentionGap};

#[derive(Debug)]
pub struct GapObserver {
    pub db: Db,
    pub metrics: AuditMetrics,
}

impl LagObserver for GapObserver {
    async fn observe(&self, lags: Lags) {
        let mut lost = Vec::new();
        for p in lags.partitions {
            self.metrics.lag(&p);
            if let Some((from_offset, to_offset)) = gaps::lost_while_idle(p.applied, p.low) {
                lost.push(RetentionGap {
                    topic: p.topic,
                    partition: p.partition,
                    from_offset,
                    to_offset,
                });
            }
        }
        if !lost.is_empty() {
            self.record(lost).await;
        }
    }
}

impl GapObserver {
    async fn record(&self, lost: Vec<RetentionGap>) {
        let recorded = match self.db.connect().await {
            Ok(client) => store::record_gaps(&client, lost)
                .await
                .map_err(DbError::from),
            Err(err) => Err(err),
        };
        match recorded {
            Ok(new) => gaps::report(&new, &self.metrics),
            // The next probe finds them again.
            Err(err) => tracing::warn!(error = %err, "recording a retention gap failed"),
        }
    }
}
