//! The HTTP load engine: `clients` concurrent clients run a [`Workload`] at
//! full speed or at a fixed rate, for a number of requests or a duration, and
//! every call's latency goes into an HdrHistogram.
//!
//! It knows nothing about eventbank: a workload is any async call that
//! succeeds or fails with a short error kind. [`crate::load::workload`] has
//! the CLI's bank mix; the benchmark (`eventbank-bench`) drives its own
//! workloads through this same engine.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use std::time::Duration;
//! # use eventbank_cli::load::engine::{self as load, Call, LoadConfig, Rate, Workload};
//! struct Ping(reqwest::Client);
//!
//! impl Workload for Ping {
//!     async fn call(&self, _call: Call) -> Result<(), String> {
//!         let response = self.0.get("http://127.0.0.1:8080/healthz").send().await
//!             .map_err(|_| "connect".to_owned())?;
//!         response.status().is_success().then_some(()).ok_or_else(|| response.status().to_string())
//!     }
//! }
//!
//! # async fn example() -> Result<(), load::LoadError> {
//! let config = LoadConfig::new(16, Rate::PerSecond(500)).for_duration(Duration::from_secs(10));
//! let report = load::run(Arc::new(Ping(reqwest::Client::new())), &config, None).await?;
//! println!("{} ok/s, p99 {} µs", report.ok_per_second(), report.latency().p99_us);
//! # Ok(()) }
//! ```
//!
//! # Rate and coordinated omission
//!
//! With [`Rate::PerSecond`] request *n* is due at `start + n / rate`; a free
//! client takes the next due request, waits until it is due and sends it.
//! Its latency is measured **from when it was due**, not from when it was
//! sent, so a server that falls behind is charged for the queueing it causes
//! (no coordinated omission). Enough clients must be configured for the rate
//! (at least rate × latency); a run that could not keep up says so in
//! [`LoadReport::behind_schedule`]. With [`Rate::Max`] every client sends its
//! next request as soon as its previous one is answered (a closed loop), and
//! latency is measured from the send.
//!
//! The engine does integer arithmetic only: latencies are microseconds,
//! rates are per second rounded down.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use indicatif::ProgressBar;
use serde::Serialize;

/// Highest latency the histograms track (longer ones are recorded as this).
pub const MAX_LATENCY: Duration = Duration::from_secs(120);

/// How fast requests are offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rate {
    /// Closed loop: each client sends again as soon as it has its answer.
    Max,
    /// Open loop: this many requests per second, whatever the latency.
    PerSecond(u64),
}

/// One request a client is asked to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    /// Which client (0-based) makes it.
    pub client: usize,
    /// The request's number in the run (0-based, unique, in due order).
    pub seq: u64,
}

/// Something the engine can call many times concurrently.
pub trait Workload: Send + Sync + 'static {
    /// Makes one request. `Err` carries a short error kind (`"http 503"`,
    /// `"timeout"`), counted per kind in the report; keep it low-cardinality.
    fn call(&self, call: Call) -> impl Future<Output = Result<(), String>> + Send;
}

/// A run's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadConfig {
    pub clients: usize,
    pub rate: Rate,
    /// Stop after this many requests ...
    pub requests: Option<u64>,
    /// ... or once this long has passed since the start (no request is due
    /// after it), whichever comes first.
    pub duration: Option<Duration>,
}

impl LoadConfig {
    /// `clients` clients at `rate`; set a limit with [`Self::for_requests`]
    /// or [`Self::for_duration`].
    pub fn new(clients: usize, rate: Rate) -> Self {
        Self {
            clients,
            rate,
            requests: None,
            duration: None,
        }
    }

    #[must_use]
    pub fn for_requests(mut self, requests: u64) -> Self {
        self.requests = Some(requests);
        self
    }

    #[must_use]
    pub fn for_duration(mut self, duration: Duration) -> Self {
        self.duration = Some(duration);
        self
    }

    fn validate(&self) -> Result<(), LoadError> {
        if self.clients == 0 {
            return Err(LoadError::Invalid("clients must be at least 1"));
        }
        if self.rate == Rate::PerSecond(0) {
            return Err(LoadError::Invalid("a rate must be at least 1 per second"));
        }
        if self.requests.is_none() && self.duration.is_none() {
            return Err(LoadError::Invalid(
                "set a request count or a duration: a run must end by itself",
            ));
        }
        Ok(())
    }

    /// When request `seq` is due, for an open-loop rate.
    fn due(&self, start: Instant, seq: u64) -> Option<Instant> {
        match self.rate {
            Rate::Max => None,
            Rate::PerSecond(rate) => {
                let nanos = u128::from(seq) * 1_000_000_000 / u128::from(rate);
                Some(start + Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX)))
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("invalid load configuration: {0}")]
    Invalid(&'static str),
    #[error("a load client panicked: {0}")]
    Client(#[from] tokio::task::JoinError),
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct LoadReport {
    pub clients: usize,
    pub rate: Rate,
    /// Calls that returned `Ok`.
    pub ok: u64,
    /// Calls that returned `Err`, by error kind.
    pub errors: BTreeMap<String, u64>,
    /// From the start until the last call returned.
    pub elapsed: Duration,
    /// Latency of every call (ok or not), in microseconds.
    pub histogram: Histogram<u64>,
    /// The largest amount by which a request was sent after it was due
    /// (open loop only): far above the latency means too few clients.
    pub behind_schedule: Duration,
}

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct LatencySummary {
    pub count: u64,
    pub p50_us: u64,
    pub p95_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
    pub mean_us: u64,
}

impl LatencySummary {
    pub fn of(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return Self::default();
        }
        Self {
            count: histogram.len(),
            p50_us: histogram.value_at_quantile(0.50),
            p95_us: histogram.value_at_quantile(0.95),
            p99_us: histogram.value_at_quantile(0.99),
            p999_us: histogram.value_at_quantile(0.999),
            max_us: histogram.max(),
            // A float from the histogram, truncated: no arithmetic on it here.
            mean_us: histogram.mean() as u64,
        }
    }
}

impl LoadReport {
    pub fn latency(&self) -> LatencySummary {
        LatencySummary::of(&self.histogram)
    }

    /// Every call made, ok or not.
    pub fn calls(&self) -> u64 {
        self.ok + self.errors.values().sum::<u64>()
    }

    /// Successful calls per second over the whole run.
    pub fn ok_per_second(&self) -> u64 {
        per_second(self.ok, self.elapsed)
    }
}

/// A new latency histogram: 1 µs to [`MAX_LATENCY`], 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, micros(MAX_LATENCY), 3).expect("static histogram bounds")
}

/// Records `latency` (clamped to the histogram's range).
pub fn record(histogram: &mut Histogram<u64>, latency: Duration) {
    histogram.saturating_record(micros(latency).max(1));
}

/// A duration in whole microseconds.
pub fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// `count` per second over `elapsed`, rounded down (integer arithmetic).
pub fn per_second(count: u64, elapsed: Duration) -> u64 {
    let micros = elapsed.as_micros().max(1);
    u64::try_from(u128::from(count) * 1_000_000 / micros).unwrap_or(u64::MAX)
}

struct ClientTally {
    ok: u64,
    errors: BTreeMap<String, u64>,
    histogram: Histogram<u64>,
    last_done: Instant,
    behind: Duration,
}

/// Runs `workload` as `config` says and reports what it measured. `progress`
/// (if any) is advanced by one per finished call.
pub async fn run<W: Workload>(
    workload: Arc<W>,
    config: &LoadConfig,
    progress: Option<ProgressBar>,
) -> Result<LoadReport, LoadError> {
    config.validate()?;
    let start = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let mut clients = Vec::with_capacity(config.clients);
    for client in 0..config.clients {
        let (workload, next, config, progress) = (
            workload.clone(),
            next.clone(),
            config.clone(),
            progress.clone(),
        );
        clients.push(tokio::spawn(async move {
            let mut tally = ClientTally {
                ok: 0,
                errors: BTreeMap::new(),
                histogram: new_histogram(),
                last_done: start,
                behind: Duration::ZERO,
            };
            let deadline = config.duration.map(|d| start + d);
            loop {
                let seq = next.fetch_add(1, Ordering::Relaxed);
                if config.requests.is_some_and(|max| seq >= max) {
                    break;
                }
                let due = config.due(start, seq);
                let begins = due.unwrap_or_else(Instant::now);
                if deadline.is_some_and(|deadline| begins >= deadline) {
                    break;
                }
                if let Some(due) = due {
                    tokio::time::sleep_until(due.into()).await;
                    tally.behind = tally
                        .behind
                        .max(Instant::now().saturating_duration_since(due));
                }
                let outcome = workload.call(Call { client, seq }).await;
                let done = Instant::now();
                record(&mut tally.histogram, done.saturating_duration_since(begins));
                tally.last_done = tally.last_done.max(done);
                match outcome {
                    Ok(()) => tally.ok += 1,
                    Err(kind) => *tally.errors.entry(kind).or_default() += 1,
                }
                if let Some(progress) = &progress {
                    progress.inc(1);
                }
            }
            tally
        }));
    }
    let mut report = LoadReport {
        clients: config.clients,
        rate: config.rate,
        ok: 0,
        errors: BTreeMap::new(),
        elapsed: Duration::ZERO,
        histogram: new_histogram(),
        behind_schedule: Duration::ZERO,
    };
    let mut last_done = start;
    for client in clients {
        let tally = client.await?;
        report.ok += tally.ok;
        for (kind, count) in tally.errors {
            *report.errors.entry(kind).or_default() += count;
        }
        report
            .histogram
            .add(&tally.histogram)
            .expect("histograms of equal bounds add");
        last_done = last_done.max(tally.last_done);
        report.behind_schedule = report.behind_schedule.max(tally.behind);
    }
    report.elapsed = last_done.saturating_duration_since(start);
    Ok(report)
}

#[cfg(test)]
mod tests;
