//! A bound on librdkafka calls that should return within their timeout and
//! sometimes do not.
//!
//! Seen in the bank test under faults: after a broker was frozen and
//! resumed, `send_offsets_to_transaction`, given 30 s, had not returned after
//! five minutes (librdkafka waits for the operation with no deadline and
//! relies on the operation to enforce it). A blocked call cannot be
//! interrupted and the loop's thread is lost with it, so the service looked
//! alive, served nothing, and did not even stop on SIGTERM. The watchdog
//! turns that into what an orchestrator can act on: an error log and the
//! process exiting with [`EXIT_CODE`], to be started again (state is restored
//! from Kafka, so nothing is lost).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

/// The exit status of a process whose transactional call never returned
/// (`EX_SOFTWARE`).
pub const EXIT_CODE: i32 = 70;

static EXIT_ARMED: AtomicBool = AtomicBool::new(false);

/// Lets the watchdog end the process. Only a service's own `main` does this
/// ([`crate::service::main`]); elsewhere (a service run inside a test) a
/// stuck call is logged, and the test's own time limits apply.
pub fn arm_stuck_call_exit() {
    EXIT_ARMED.store(true, Ordering::SeqCst);
}

#[derive(Debug, Clone)]
pub(super) struct CallWatchdog {
    current: Arc<Mutex<Option<(&'static str, Instant)>>>,
}

impl CallWatchdog {
    /// Watches the calls made through [`call`](Self::call): one still
    /// running after `limit` ends the process. The watching thread stops
    /// once every clone is dropped.
    pub(super) fn start(name: String, limit: Duration) -> Self {
        let watchdog = Self {
            current: Arc::new(Mutex::new(None)),
        };
        let watched: Weak<Mutex<Option<(&'static str, Instant)>>> =
            Arc::downgrade(&watchdog.current);
        let spawned = std::thread::Builder::new()
            .name("txn-watchdog".into())
            .spawn(move || {
                while let Some(current) = watched.upgrade() {
                    let stuck = *current.lock().unwrap_or_else(PoisonError::into_inner);
                    drop(current);
                    if let Some((what, since)) = stuck
                        && since.elapsed() > limit
                    {
                        if EXIT_ARMED.load(Ordering::SeqCst) {
                            tracing::error!(
                                name,
                                call = what,
                                waited_s = since.elapsed().as_secs(),
                                "a transactional call has not returned; exiting so the process is started again"
                            );
                            std::process::exit(EXIT_CODE);
                        }
                        tracing::error!(
                            name,
                            call = what,
                            waited_s = since.elapsed().as_secs(),
                            "a transactional call has not returned (not a service process: not exiting)"
                        );
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
            });
        if let Err(err) = spawned {
            tracing::warn!(error = %err, "could not start the transactional call watchdog");
        }
        watchdog
    }

    /// Runs `f`, a blocking librdkafka call named `what`, under watch.
    pub(super) fn call<T>(&self, what: &'static str, f: impl FnOnce() -> T) -> T {
        self.set(Some((what, Instant::now())));
        let result = f();
        self.set(None);
        result
    }

    fn set(&self, value: Option<(&'static str, Instant)>) {
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = value;
    }
}
