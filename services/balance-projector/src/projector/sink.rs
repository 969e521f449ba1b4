//! The projector's [`Sink`]: decode each record as it arrives, apply a
//! batch's events to Redis in one round trip, dead-letter the undecodable.

use std::collections::BTreeMap;

use eventbank_events::{AccountEventEnvelope, TransferEventEnvelope, wire};
use eventbank_runtime::kafka::sink::{Consumed, Sink};
use eventbank_runtime::kafka::{DeadLetterError, DeadLetterer, OwnedRecord};

use crate::metrics::ProjectorMetrics;
use crate::store::{Event, Outcome, Store, StoreError};

/// Writes events to one generation of the read model.
#[derive(Debug)]
pub struct RedisSink {
    store: Store,
    metrics: ProjectorMetrics,
    dead_letters: DeadLetterer,
    account_topic: String,
}

/// A record and what decoding it gave: the event, or why it goes to the
/// dead-letter topic.
#[derive(Debug)]
pub struct Decoded {
    record: OwnedRecord,
    event: Result<Event, String>,
}

impl Consumed for Decoded {
    fn record(&self) -> &OwnedRecord {
        &self.record
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    DeadLetter(#[from] DeadLetterError),
}

impl RedisSink {
    pub fn new(
        store: Store,
        metrics: ProjectorMetrics,
        dead_letters: DeadLetterer,
        account_topic: String,
    ) -> Self {
        Self {
            store,
            metrics,
            dead_letters,
            account_topic,
        }
    }

    fn decode(&self, record: &OwnedRecord) -> Result<Event, String> {
        let Some(payload) = &record.payload else {
            return Err("record has no value".to_owned());
        };
        if record.topic == self.account_topic {
            wire::decode::<AccountEventEnvelope>(payload)
                .map(Event::Account)
                .map_err(|err| err.to_string())
        } else {
            wire::decode::<TransferEventEnvelope>(payload)
                .map(Event::Transfer)
                .map_err(|err| err.to_string())
        }
    }

    /// Counts outcomes per topic, once per batch and outcome (a label set
    /// costs allocations and a lock), and logs what is held back.
    fn report(&self, events: &[&Event], topics: &[&str], outcomes: &[Outcome]) {
        let mut counts: BTreeMap<(&str, &str), u64> = BTreeMap::new();
        for ((event, outcome), topic) in events.iter().zip(outcomes).zip(topics) {
            *counts.entry((topic, outcome.label())).or_default() += 1;
            if matches!(outcome, Outcome::Gap | Outcome::Malformed) {
                tracing::error!(
                    %topic, stream = %event.stream(), sequence = event.sequence(), outcome = outcome.label(),
                    "event not applied: the stream has a gap or a bad start; its later events \
                     are held back until it is repaired"
                );
            }
        }
        for ((topic, outcome), count) in counts {
            self.metrics
                .events(self.store.generation(), topic, outcome, count);
        }
    }
}

impl Sink for RedisSink {
    type Item = Decoded;
    type Error = WriteError;

    fn prepare(&self, record: OwnedRecord) -> Decoded {
        let event = self.decode(&record);
        Decoded { record, event }
    }

    /// Applies the events, then dead-letters the undecodable (a retry after
    /// a failed dead letter applies again, which changes nothing).
    async fn write(&self, batch: &[Decoded]) -> Result<(), WriteError> {
        let mut events = Vec::with_capacity(batch.len());
        let mut topics = Vec::with_capacity(batch.len());
        let mut dead = Vec::new();
        for Decoded { record, event } in batch {
            match event {
                Ok(event) => {
                    events.push(event);
                    topics.push(record.topic.as_str());
                }
                Err(reason) => dead.push((record, reason.as_str())),
            }
        }
        let outcomes = self.store.apply(&events).await?;
        self.report(&events, &topics, &outcomes);
        for (record, reason) in dead {
            self.dead_letters.send(record, reason).await?;
            self.metrics.dead_letter(&record.topic);
        }
        Ok(())
    }

    fn written(&self, _batch: &[Decoded]) {
        self.metrics.batch();
    }
}
