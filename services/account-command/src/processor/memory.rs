//! The processor's memory of decided commands, by command id: the authority
//! behind `Idempotency-Key` and behind "a transfer leg is applied at most
//! once".
//!
//! Every decided command is remembered — rejections too, and commands for
//! accounts that do not exist (yet): a credit refused as `account_not_found`
//! must stay refused when its retry arrives after the account was opened,
//! or the saga, which refunded on the first answer, would have paid twice.
//!
//! Each entry lives on `command-memory` as its own record (keyed by command
//! id, on the command's partition) until it expires, and is tombstoned then:
//! memory is bounded by a duration, whatever the traffic on one account.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, TimeDelta, Utc};
use eventbank_events::{
    AccountCommand, AccountSnapshot, CommandEnvelope, CommandId, CommandOutcome, Fingerprint,
    RejectionCode, RememberedOutcome, SettledStep, TransferStep, WireRecord,
};

/// How long a refund is remembered at least. A refund has no deadline (the
/// saga retries it until it sees it applied), so its memory has to outlast
/// the saga's longest plausible lag, not just the idempotency window.
pub const REFUND_MEMORY: TimeDelta = TimeDelta::days(7);

/// When the outcome of `command`, decided at `now`, may be forgotten.
///
/// - Anything: after `window` (the `Idempotency-Key` promise).
/// - A transfer credit: not before its deadline either. After the deadline
///   every credit is refused as `transfer_expired` whatever is remembered, so
///   nothing can pay it twice once its memory is gone.
/// - A refund: not before [`REFUND_MEMORY`].
/// - A credit without deadline (written before deadlines existed) is treated
///   like a refund.
pub fn expires_at(
    command: &AccountCommand,
    now: DateTime<Utc>,
    window: TimeDelta,
) -> DateTime<Utc> {
    let plain = now + window;
    match command {
        AccountCommand::CreditForTransfer {
            deadline: Some(deadline),
            ..
        } => plain.max(*deadline + TimeDelta::minutes(1)),
        AccountCommand::CreditForTransfer { deadline: None, .. }
        | AccountCommand::RefundTransfer { .. } => plain.max(now + REFUND_MEMORY),
        _ => plain,
    }
}

/// Remembered outcomes of the partitions one instance owns, with the changes
/// of the open transaction staged on top.
#[derive(Debug, Default)]
pub struct Memory {
    committed: HashMap<i32, Partition>,
    /// New outcomes of the open transaction.
    staged: HashMap<CommandId, (i32, RememberedOutcome)>,
    /// Expired ids the open transaction tombstones.
    forgetting: Vec<(i32, CommandId)>,
    /// Outcomes carried over from old snapshots, still to be written to
    /// `command-memory` (before the snapshot that carried them is replaced).
    migrating: Vec<(i32, RememberedOutcome)>,
}

#[derive(Debug, Default)]
struct Partition {
    outcomes: HashMap<CommandId, RememberedOutcome>,
    by_expiry: BTreeSet<(DateTime<Utc>, CommandId)>,
}

impl Partition {
    fn insert(&mut self, outcome: RememberedOutcome) {
        if let Some(previous) = self.outcomes.remove(&outcome.command_id) {
            self.by_expiry
                .remove(&(previous.expires_at, previous.command_id));
        }
        self.by_expiry
            .insert((outcome.expires_at, outcome.command_id));
        self.outcomes.insert(outcome.command_id, outcome);
    }

    fn remove(&mut self, id: CommandId) {
        if let Some(previous) = self.outcomes.remove(&id) {
            self.by_expiry.remove(&(previous.expires_at, id));
        }
    }
}

/// What a command id is bound to, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recall<'a> {
    /// Never decided (or forgotten): decide it.
    New,
    /// A retry of the remembered request: answer with its outcome.
    Retry(&'a RememberedOutcome),
    /// The id is bound to a different request: refuse, change nothing.
    Reused(&'a RememberedOutcome),
}

impl Memory {
    /// Installs a partition's memory: its `command-memory` records, plus what
    /// snapshots written before that topic existed still carry (their
    /// remembered commands and settled legs), which is written out by the
    /// next transaction.
    pub fn restore(
        &mut self,
        partition: i32,
        remembered: Vec<RememberedOutcome>,
        snapshots: &[AccountSnapshot],
        window: TimeDelta,
        now: DateTime<Utc>,
    ) {
        let mut restored = Partition::default();
        for outcome in remembered {
            restored.insert(outcome);
        }
        for carried in carried_over(snapshots, window) {
            if carried.expires_at > now && !restored.outcomes.contains_key(&carried.command_id) {
                restored.insert(carried.clone());
                self.migrating.push((partition, carried));
            }
        }
        self.committed.insert(partition, restored);
    }

    pub fn drop_partition(&mut self, partition: i32) {
        self.committed.remove(&partition);
        self.staged.retain(|_, (p, _)| *p != partition);
        self.forgetting.retain(|(p, _)| *p != partition);
        self.migrating.retain(|(p, _)| *p != partition);
    }

    /// What `command_id` (asking for `fingerprint`) is bound to, as the open
    /// transaction sees it.
    pub fn recall(
        &self,
        partition: i32,
        command_id: CommandId,
        fingerprint: &Fingerprint,
    ) -> Recall<'_> {
        let remembered = self
            .staged
            .get(&command_id)
            .map(|(_, outcome)| outcome)
            .or_else(|| {
                self.committed
                    .get(&partition)
                    .and_then(|p| p.outcomes.get(&command_id))
            });
        match remembered {
            None => Recall::New,
            Some(outcome) if outcome.matches(fingerprint) => Recall::Retry(outcome),
            Some(outcome) => Recall::Reused(outcome),
        }
    }

    /// Stages the outcome of a command just decided.
    pub fn remember(
        &mut self,
        partition: i32,
        envelope: &CommandEnvelope,
        fingerprint: Fingerprint,
        outcome: CommandOutcome,
        now: DateTime<Utc>,
        window: TimeDelta,
    ) -> RememberedOutcome {
        let remembered = RememberedOutcome {
            schema_version: RememberedOutcome::CURRENT_VERSION,
            command_id: envelope.command_id,
            account_id: envelope.account_id,
            fingerprint: Some(fingerprint),
            outcome,
            decided_at: now,
            expires_at: expires_at(&envelope.command, now, window),
        };
        self.staged
            .insert(envelope.command_id, (partition, remembered.clone()));
        remembered
    }

    /// Stages forgetting every committed outcome expired at `now`, at most
    /// `limit` of them (a tick's transaction stays small); returns them.
    pub fn forget_expired(&mut self, now: DateTime<Utc>, limit: usize) -> Vec<(i32, CommandId)> {
        let mut expired = Vec::new();
        for (partition, memory) in &self.committed {
            for (expires_at, id) in &memory.by_expiry {
                if *expires_at > now || expired.len() >= limit {
                    break;
                }
                expired.push((*partition, *id));
            }
        }
        self.forgetting.extend(expired.iter().copied());
        expired
    }

    /// Carried-over outcomes not yet on `command-memory`; once taken, they are
    /// written by the open transaction (and taken again if it aborts).
    pub fn take_migrating(&self) -> Vec<(i32, RememberedOutcome)> {
        self.migrating.clone()
    }

    pub fn commit(&mut self) {
        for (id, (partition, outcome)) in self.staged.drain() {
            debug_assert_eq!(id, outcome.command_id);
            self.committed.entry(partition).or_default().insert(outcome);
        }
        for (partition, id) in self.forgetting.drain(..) {
            if let Some(memory) = self.committed.get_mut(&partition) {
                memory.remove(id);
            }
        }
        self.migrating.clear();
    }

    pub fn abort(&mut self) {
        self.staged.clear();
        self.forgetting.clear();
    }

    /// How many outcomes are remembered (committed), for metrics and tests.
    pub fn len(&self) -> usize {
        self.committed.values().map(|p| p.outcomes.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What old snapshots remembered, as memory entries: their command window
/// (no fingerprint: it matches any retry, as before) until `window` after
/// the snapshot, and their settled legs — answered as `duplicate_transfer`,
/// which is what those accounts answered a repeated leg with — until the
/// leg's own limit.
fn carried_over(snapshots: &[AccountSnapshot], window: TimeDelta) -> Vec<RememberedOutcome> {
    let mut carried = Vec::new();
    for snapshot in snapshots {
        for old in &snapshot.recent_commands {
            carried.push(RememberedOutcome {
                schema_version: RememberedOutcome::CURRENT_VERSION,
                command_id: old.command_id,
                account_id: snapshot.account_id,
                fingerprint: None,
                outcome: old.result.clone(),
                decided_at: snapshot.updated_at,
                expires_at: snapshot.updated_at + window,
            });
        }
        for leg in &snapshot.settled_legs {
            let step = match leg.step {
                SettledStep::Credit => TransferStep::Credit,
                SettledStep::Refund => TransferStep::Refund,
            };
            carried.push(RememberedOutcome {
                schema_version: RememberedOutcome::CURRENT_VERSION,
                command_id: CommandId::for_transfer_step(leg.transfer_id, step),
                account_id: snapshot.account_id,
                fingerprint: None,
                outcome: CommandOutcome::rejected(
                    RejectionCode::DuplicateTransfer,
                    format!(
                        "the {step:?} of transfer {} was already applied to this account",
                        leg.transfer_id
                    ),
                ),
                decided_at: snapshot.updated_at,
                expires_at: leg.until,
            });
        }
    }
    carried
}

#[cfg(test)]
#[path = "memory_tests.rs"]
mod tests;
