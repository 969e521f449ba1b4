//! The loop's transactional producers: a small ring used in turn, one
//! transaction at a time.
//!
//! Why more than one: when a transaction commits, its coordinator still has
//! to write the commit markers to every partition it touched. Until it has,
//! the same `transactional.id` cannot register partitions for its next
//! transaction: the coordinator answers `CONCURRENT_TRANSACTIONS`, and
//! librdkafka retries after a back-off it hard-codes (20 ms in 2.12), which
//! is longer than a whole transaction otherwise takes. Back-to-back
//! transactions on one id hit it most of the time. The next producer of the
//! ring has a coordinator state of its own that finished long ago.
//!
//! Why this keeps exactly-once (the argument, since it is not obvious):
//! - **One transaction open at a time.** A producer begins only after the
//!   previous transaction (on whichever producer) committed or aborted, so
//!   the loop is still the single writer it was, deciding each batch from
//!   state that includes every earlier batch.
//! - **Order in every partition.** A committed transaction's records were
//!   all acknowledged before its commit, so the next transaction's records
//!   land after them. A read-committed reader stops at the first open
//!   transaction (the last stable offset), so it never sees a later
//!   transaction's records before an earlier one's, whichever commit marker
//!   is written first.
//! - **Consumer offsets.** The group coordinator keeps, per partition, the
//!   transactional offset commit that was appended last to
//!   `__consumer_offsets` when their markers arrive out of order, and
//!   transaction N's offsets were appended before N+1's were sent.
//!   Committed-offset reads of a read-committed consumer wait for pending
//!   ones (`require_stable`).
//! - **Fencing.** Zombie fencing is by consumer group generation
//!   (`send_offsets_to_transaction` with the group's metadata, KIP-447),
//!   whatever the producer; each id is stable per instance and index, so a
//!   restarted instance's `init_transactions` aborts what its predecessor
//!   left open on every one of them.
//! - **Restores** read state topics to the high watermark, not the last
//!   stable offset, so they wait out a transaction whose markers are still
//!   being written.

use std::time::Duration;

use rdkafka::producer::{DefaultProducerContext, Producer, ThreadedProducer};

use super::watchdog::CallWatchdog;
use rdkafka::error::KafkaError;

use crate::kafka::KafkaSettings;

pub(super) type Txn = ThreadedProducer<DefaultProducerContext>;

/// The most producers a loop may use in turn: past a few, the ring only
/// adds connections (the markers are written within one transaction's time).
pub const MAX_TRANSACTIONAL_PRODUCERS: usize = 8;

/// The `transactional.id` of the ring's producer `index`: the loop's own id
/// for the first (so a ring of one is exactly the single producer it was),
/// then `<id>.<index>`.
pub fn ring_transactional_id(base: &str, index: usize) -> String {
    if index == 0 {
        base.to_owned()
    } else {
        format!("{base}.{index}")
    }
}

pub(super) struct ProducerRing {
    producers: Vec<Txn>,
    current: usize,
    base_id: String,
    call_timeout: Duration,
}

impl ProducerRing {
    /// `size` producers (at least one), each initialised: that fences any
    /// earlier producer with its id and aborts its open transaction.
    pub(super) fn new(
        settings: &KafkaSettings,
        base_id: &str,
        size: usize,
        call_timeout: Duration,
        watchdog: &CallWatchdog,
    ) -> Result<Self, KafkaError> {
        let size = size.clamp(1, MAX_TRANSACTIONAL_PRODUCERS);
        let producers = (0..size)
            .map(|index| {
                new_producer(
                    settings,
                    &ring_transactional_id(base_id, index),
                    call_timeout,
                    watchdog,
                )
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            producers,
            current: 0,
            base_id: base_id.to_owned(),
            call_timeout,
        })
    }

    /// The producer of the transaction in hand (or of the last one).
    pub(super) fn current(&self) -> &Txn {
        &self.producers[self.current]
    }

    /// Moves to the next producer and begins a transaction on it. Only
    /// called when no transaction is open, so the one left behind has
    /// committed or aborted.
    pub(super) fn begin(&mut self) -> Result<&Txn, KafkaError> {
        self.current = (self.current + 1) % self.producers.len();
        let producer = &self.producers[self.current];
        producer.begin_transaction()?;
        Ok(producer)
    }

    /// Replaces the current producer with a new one under the same id; its
    /// `init_transactions` waits for the coordinator to settle whatever the
    /// old one left open (and fences it).
    pub(super) fn replace_current(
        &mut self,
        settings: &KafkaSettings,
        watchdog: &CallWatchdog,
    ) -> Result<(), KafkaError> {
        let id = ring_transactional_id(&self.base_id, self.current);
        self.producers[self.current] = new_producer(settings, &id, self.call_timeout, watchdog)?;
        Ok(())
    }
}

fn new_producer(
    settings: &KafkaSettings,
    transactional_id: &str,
    call_timeout: Duration,
    watchdog: &CallWatchdog,
) -> Result<Txn, KafkaError> {
    let producer: Txn = settings
        .transactional_producer_config(transactional_id)
        .create()?;
    watchdog.call("init_transactions", || {
        producer.init_transactions(call_timeout)
    })?;
    Ok(producer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_producer_keeps_the_loops_own_id() {
        assert_eq!(
            ring_transactional_id("p.account-processor.pod-0", 0),
            "p.account-processor.pod-0"
        );
        assert_eq!(
            ring_transactional_id("p.account-processor.pod-0", 1),
            "p.account-processor.pod-0.1"
        );
        assert_eq!(
            ring_transactional_id("p.account-processor.pod-0", 7),
            "p.account-processor.pod-0.7"
        );
    }
}
