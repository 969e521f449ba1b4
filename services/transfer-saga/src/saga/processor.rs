//! The saga's [`Processor`]: one inbox record (or a clock tick) in, commands,
//! transfer events and state out.

use std::time::Duration;

use chrono::Utc;
use eventbank_events::{EventId, TransferSagaSnapshot};
use eventbank_runtime::kafka::transactional::{
    HandleError, Processor, ProcessorError, TopicPartition, restore_partitions,
};
use eventbank_runtime::kafka::{KafkaSettings, OutputRecord, OwnedRecord};

use super::outputs::SagaTopics;
use super::sagas::Sagas;
use crate::domain::{Action, Input, Timing, Transition, check_debit, decide, due_retry};
use crate::inbox;
use crate::metrics::{Outcome, SagaMetrics};

/// Tombstones per tick at most: a tick's transaction stays small even when a
/// restart finds a backlog of expired transfers; the rest follow on the next
/// ticks.
const MAX_TOMBSTONES_PER_TICK: usize = 5_000;

#[derive(Debug)]
pub struct SagaProcessor {
    topics: SagaTopics,
    timing: Timing,
    restore_limit: Duration,
    sagas: Sagas,
    metrics: SagaMetrics,
    /// Metric updates of the open transaction, counted once it commits.
    staged_outcomes: Vec<Outcome>,
}

impl SagaProcessor {
    pub fn new(
        topics: SagaTopics,
        timing: Timing,
        restore_limit: Duration,
        metrics: SagaMetrics,
    ) -> Self {
        Self {
            topics,
            timing,
            restore_limit,
            sagas: Sagas::default(),
            metrics,
            staged_outcomes: Vec::new(),
        }
    }

    /// Emits the transition's actions and new state, and stages the state
    /// (with the id of the debit event, when that was the input).
    fn emit(
        &mut self,
        partition: i32,
        transition: Transition,
        debit_event: Option<EventId>,
        out: &mut Vec<OutputRecord>,
    ) {
        let now = Utc::now();
        for action in &transition.actions {
            out.push(self.topics.action(&transition.state, action, now));
        }
        out.push(self.topics.snapshot(partition, &transition.state));
        self.sagas.stage(partition, transition.state, debit_event);
    }

    fn outcome(
        previous: Option<&TransferSagaSnapshot>,
        transition: &Transition,
    ) -> Option<Outcome> {
        transition.actions.iter().find_map(|action| match action {
            Action::Credit { .. } if previous.is_none() => Some(Outcome::Started),
            Action::Complete { .. } => Some(Outcome::Completed),
            Action::Fail { reason, .. } => Some(Outcome::Failed(reason.code())),
            Action::Credit { .. } | Action::Refund { .. } => None,
        })
    }

    fn update_backlog(&self) {
        let (count, oldest) = self.sagas.backlog();
        let age = oldest.map_or(0, |started| (Utc::now() - started).num_seconds().max(0));
        self.metrics.set_pending(count, age);
        self.metrics.set_finished(self.sagas.finished_count());
    }
}

impl Processor for SagaProcessor {
    fn assigned(
        &mut self,
        settings: &KafkaSettings,
        partitions: &[TopicPartition],
    ) -> Result<(), ProcessorError> {
        for (partition, snapshots) in
            restore_partitions(settings, &self.topics.state, partitions, self.restore_limit)?
        {
            tracing::info!(partition, snapshots = snapshots.len(), "transfers restored");
            self.sagas
                .restore(partition, snapshots, Utc::now(), &self.timing);
        }
        self.update_backlog();
        Ok(())
    }

    fn revoked(&mut self, partitions: &[TopicPartition]) {
        for tp in partitions {
            self.sagas.drop_partition(tp.partition);
        }
        self.update_backlog();
    }

    fn handle(
        &mut self,
        record: &OwnedRecord,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(), HandleError> {
        let input = inbox::read(record).map_err(HandleError::dead_letter)?;
        let (partition, id) = (record.partition, input.transfer_id());
        let debit_event = match &input {
            Input::Debited(debit) => Some(debit.event_id),
            Input::Credited { .. } | Input::Refunded { .. } | Input::Rejected { .. } => None,
        };
        let decided = match (&input, self.sagas.debit_seen(partition, id)) {
            // Checked before anything else, finished transfers included: a
            // different debit under a known transfer id took money that no
            // saga will ever move on, so it must not pass as a repeat.
            (Input::Debited(debit), Some(seen)) => check_debit(&seen, debit).map(|()| None),
            _ if self.sagas.is_finished(partition, id) => {
                tracing::debug!(transfer_id = %id, ?input, "leg of a finished transfer; nothing to do");
                return Ok(());
            }
            _ => decide(
                self.sagas.get(partition, id),
                &input,
                Utc::now(),
                &self.timing,
            ),
        };
        match decided {
            Ok(None) => Ok(()),
            Ok(Some(transition)) => {
                let current = self.sagas.get(partition, id);
                if let Some(outcome) = Self::outcome(current, &transition) {
                    self.staged_outcomes.push(outcome);
                }
                tracing::debug!(transfer_id = %id, step = ?transition.state.step, "saga progressed");
                self.emit(partition, transition, debit_event, out);
                Ok(())
            }
            Err(anomaly) => {
                self.metrics.anomaly();
                tracing::error!(transfer_id = %id, %anomaly, ?input, "inbox record contradicts the saga");
                Err(HandleError::dead_letter(format!(
                    "transfer {id}: {anomaly}"
                )))
            }
        }
    }

    fn tick(&mut self, out: &mut Vec<OutputRecord>) -> Result<(), ProcessorError> {
        let now = Utc::now();
        let due: Vec<(i32, Transition)> = self
            .sagas
            .pending()
            .filter_map(|(partition, saga)| {
                due_retry(saga, now, &self.timing).map(|retry| (partition, retry))
            })
            .collect();
        for (partition, retry) in due {
            tracing::info!(
                transfer_id = %retry.state.transfer_id,
                step = ?retry.state.step,
                attempts = retry.state.attempts,
                "no progress; issuing the pending command again"
            );
            self.staged_outcomes.push(Outcome::Retried);
            self.emit(partition, retry, None, out);
        }
        // Finished transfers past their retention: tombstoned on
        // `transfer-state` (so a restore no longer sees them once compacted)
        // and dropped from memory when this transaction commits.
        let forgotten = self
            .sagas
            .expire(now, &self.timing, MAX_TOMBSTONES_PER_TICK);
        if !forgotten.is_empty() {
            tracing::info!(
                transfers = forgotten.len(),
                "tombstoning finished transfers past their retention"
            );
        }
        for (partition, id) in forgotten {
            out.push(self.topics.tombstone(partition, id));
        }
        // Here, not per commit: a scan of every pending transfer has no place
        // on the per-batch path, and the gauges only need the tick's pace.
        self.update_backlog();
        Ok(())
    }

    fn commit(&mut self) {
        self.sagas.commit();
        for outcome in self.staged_outcomes.drain(..) {
            self.metrics.committed(outcome);
        }
    }

    fn abort(&mut self) {
        self.sagas.abort();
        self.staged_outcomes.clear();
    }
}
