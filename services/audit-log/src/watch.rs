//! The chains watched in the background: their extent every
//! `audit.chain_extent_interval_ms`, and every chain verified every
//! `audit.verify_interval_secs` (0: only when asked), so an operator's alert
//! learns of a broken chain without anyone calling `GET /audit/verify`.
//! Verifications asked for over HTTP are recorded the same way.

use std::time::Duration;

use chrono::Utc;
use eventbank_runtime::http::StoreCalls;
use tokio::time::{MissedTickBehavior, interval, interval_at};
use tokio_postgres::Client;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::db::Db;
use crate::metrics::AuditMetrics;
use crate::store::{self, VerifyReport};

/// What the audit log measures its store by: the trail's own series and
/// the latency of every PostgreSQL call.
#[derive(Debug, Clone)]
pub struct Instruments {
    pub metrics: AuditMetrics,
    pub calls: StoreCalls,
}

impl Instruments {
    /// Verifies every chain (or `stream`'s), timed and counted.
    pub async fn verify(
        &self,
        client: &mut Client,
        stream: Option<Uuid>,
    ) -> Result<VerifyReport, tokio_postgres::Error> {
        let report = self
            .calls
            .time("verify", store::verify(client, stream))
            .await;
        let intact = report.as_ref().ok().map(|report| report.ok);
        self.metrics
            .verified(stream.is_none(), intact, Utc::now().timestamp());
        if intact == Some(false) {
            tracing::error!(?stream, "audit verification found a broken chain");
        }
        report
    }
}

#[derive(Debug)]
pub struct ChainWatch {
    pub db: Db,
    pub instruments: Instruments,
    pub extent_every: Duration,
    /// `None`: verify only when asked.
    pub verify_every: Option<Duration>,
}

impl ChainWatch {
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut extent = interval(self.extent_every);
        extent.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // The first verification one period after start, not at once: a
        // restarting service must not begin with a scan of the whole trail.
        let mut verify = self.verify_every.map(|every| {
            let mut ticks = interval_at(tokio::time::Instant::now() + every, every);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            ticks
        });
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                _ = extent.tick() => self.measure_extent().await,
                _ = async { verify.as_mut().expect("guarded").tick().await }, if verify.is_some() => {
                    self.verify_all().await;
                }
            }
        }
    }

    async fn measure_extent(&self) {
        let measured = match self.db.shared().await {
            Ok(client) => {
                self.instruments
                    .calls
                    .time("chain_extent", store::chain_extent(&client))
                    .await
            }
            Err(err) => {
                tracing::debug!(error = %err, "chain extent not measured");
                return;
            }
        };
        match measured {
            Ok((chains, records)) => self.instruments.metrics.chain_extent(chains, records),
            Err(err) => tracing::debug!(error = %err, "chain extent not measured"),
        }
    }

    async fn verify_all(&self) {
        // A scan gets a connection of its own (see `db`).
        match self.db.connect().await {
            Ok(mut client) => {
                if let Err(err) = self.instruments.verify(&mut client, None).await {
                    tracing::warn!(error = %err, "scheduled audit verification failed");
                }
            }
            Err(err) => {
                self.instruments.metrics.verified(true, None, 0);
                tracing::warn!(error = %err, "scheduled audit verification could not connect");
            }
        }
    }
}
