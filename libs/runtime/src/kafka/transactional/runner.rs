//! Running the transactional loop: [`spawn_loop`] starts it on a blocking
//! thread and starts it again after a transient failure; the loop's state
//! lives here, its steps in the submodules.

mod batch_error;
mod config;
mod consume;
mod lifecycle;
mod output;
mod recovery;
mod tick;
mod transaction;

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use rdkafka::consumer::BaseConsumer;
use tokio_util::sync::CancellationToken;

pub use config::{LoopConfig, LoopError};

use super::context::LoopContext;
use super::metrics::LoopMetrics;
use super::processor::{Processor, TopicPartition};
use super::producers::ProducerRing;
use super::watchdog::CallWatchdog;
use crate::error_chain::Chain;
use crate::http::ReadinessCheck;
use crate::kafka::KafkaSettings;

/// Back-off before the loop is started again after a transient failure:
/// doubling from this, up to [`RESTART_BACKOFF_MAX`].
const RESTART_BACKOFF_MIN: Duration = Duration::from_millis(500);
const RESTART_BACKOFF_MAX: Duration = Duration::from_secs(30);
/// A loop that ran this long before failing starts its back-off afresh.
const RESTART_BACKOFF_RESET: Duration = Duration::from_secs(60);
/// How often the lag of every owned partition is measured (librdkafka's
/// statistics interval).
const LAG_INTERVAL: Duration = Duration::from_secs(5);

/// Starts the loop on a blocking thread. It runs until `shutdown` (finishing the
/// batch in hand first) or a fatal error ([`LoopError::is_fatal`]); after any
/// other error it is started again in place, with back-off: new clients,
/// every partition restored from its state topic, not ready meanwhile, and
/// counted in `eventbank_txn_loop_restarts`. One broker of three going away
/// must not stop a service.
pub fn spawn_loop<P: Processor>(
    settings: KafkaSettings,
    config: LoopConfig,
    processor: P,
    metrics: LoopMetrics,
    readiness: ReadinessCheck,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<Result<(), LoopError>> {
    tokio::task::spawn_blocking(move || {
        let name = config.name.clone();
        let result = run_restarting(
            &settings, &config, processor, &metrics, &readiness, &shutdown,
        );
        match &result {
            Ok(()) => tracing::info!(name, "transactional loop stopped"),
            Err(err) => {
                readiness.set_not_ready(Chain(err).to_string());
                tracing::error!(name, error = %Chain(err), "transactional loop failed");
            }
        }
        result
    })
}

fn run_restarting<P: Processor>(
    settings: &KafkaSettings,
    config: &LoopConfig,
    mut processor: P,
    metrics: &LoopMetrics,
    readiness: &ReadinessCheck,
    shutdown: &CancellationToken,
) -> Result<(), LoopError> {
    let mut backoff = RESTART_BACKOFF_MIN;
    // Far past any call's own timeout (a commit is retried call by call, so
    // a long outage never trips it).
    let watchdog = CallWatchdog::start(config.name.clone(), config.call_timeout * 3);
    loop {
        let started = Instant::now();
        let result = match TransactionalLoop::start(
            settings.clone(),
            config.clone(),
            processor,
            metrics.clone(),
            readiness.clone(),
            watchdog.clone(),
        ) {
            Ok(mut running) => {
                let result = running.run(shutdown);
                processor = running.into_processor();
                result
            }
            Err((err, returned)) => {
                processor = returned;
                Err(err)
            }
        };
        let err = match result {
            Ok(()) => return Ok(()),
            Err(err) if err.is_fatal() || shutdown.is_cancelled() => return Err(err),
            Err(err) => err,
        };
        if started.elapsed() >= RESTART_BACKOFF_RESET {
            backoff = RESTART_BACKOFF_MIN;
        }
        metrics.loop_restarted();
        readiness.set_not_ready(format!(
            "{}: restarting after: {}",
            config.name,
            Chain(&err)
        ));
        tracing::warn!(
            name = %config.name,
            error = %Chain(&err),
            backoff_ms = backoff.as_millis() as u64,
            "transactional loop failed; starting it again"
        );
        let deadline = Instant::now() + backoff;
        while Instant::now() < deadline {
            if shutdown.is_cancelled() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        backoff = (backoff * 2).min(RESTART_BACKOFF_MAX);
    }
}

struct TransactionalLoop<P> {
    settings: KafkaSettings,
    config: LoopConfig,
    processor: P,
    metrics: LoopMetrics,
    consumer: BaseConsumer<LoopContext>,
    producers: ProducerRing,
    owned: BTreeSet<TopicPartition>,
    last_tick: Instant,
    readiness: ReadinessCheck,
    /// Transactions in a row that did not commit; see [`STALLED_AFTER`].
    failures_in_a_row: u32,
    /// Input records whose outputs Kafka refused for good (too large, say),
    /// with the reason: dead-lettered instead of handled when re-read, so one
    /// record can never make its partition abort forever.
    poisoned: HashMap<(String, i32, i64), String>,
    watchdog: CallWatchdog,
    /// Whether the first assignment since this loop started was applied.
    joined: bool,
}

/// After this many transactions in a row fail, the loop reports itself not
/// ready (and the stalled gauge shows it) until one commits again.
const STALLED_AFTER: u32 = 5;
