//! One command in; its events, result and remembered outcome out; one
//! snapshot per changed account per transaction.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use eventbank_events::{
    AccountEventEnvelope, AccountId, AccountSnapshot, CommandEnvelope, CommandId, CommandOutcome,
    CommandResult, Fingerprint, RejectionCode, RememberedOutcome, TopicKind, Topics, wire,
};
use eventbank_runtime::kafka::transactional::{
    HandleError, Processor, ProcessorError, TopicPartition, restore_partitions,
};
use eventbank_runtime::kafka::{KafkaSettings, OutputRecord, OwnedRecord};

use super::accounts::Accounts;
use super::memory::{Memory, Recall};
use crate::domain::{self, Account, Limits};

/// Expired outcomes tombstoned per tick at most, so a tick's transaction
/// stays small after a long pause; the next tick takes the rest.
const FORGET_PER_TICK: usize = 1_000;

/// The topics the processor writes.
#[derive(Debug, Clone)]
pub struct ProcessorTopics {
    pub commands: String,
    pub events: String,
    pub state: String,
    pub memory: String,
    pub results: String,
}

impl ProcessorTopics {
    pub fn new(topics: &Topics) -> Self {
        Self {
            commands: topics.name(TopicKind::AccountCommands),
            events: topics.name(TopicKind::AccountEvents),
            state: topics.name(TopicKind::AccountState),
            memory: topics.name(TopicKind::CommandMemory),
            results: topics.name(TopicKind::CommandResults),
        }
    }
}

#[derive(Debug)]
pub struct CommandProcessor {
    topics: ProcessorTopics,
    limits: Limits,
    /// How long an outcome is remembered at least (the idempotency window).
    window: TimeDelta,
    restore_limit: Duration,
    accounts: Accounts,
    memory: Memory,
}

impl CommandProcessor {
    pub fn new(
        topics: ProcessorTopics,
        limits: Limits,
        window: Duration,
        restore_limit: Duration,
    ) -> Self {
        Self {
            topics,
            limits,
            window: TimeDelta::from_std(window).unwrap_or(TimeDelta::MAX),
            restore_limit,
            accounts: Accounts::default(),
            memory: Memory::default(),
        }
    }

    fn decode(record: &OwnedRecord) -> Result<CommandEnvelope, HandleError> {
        let payload = record
            .payload
            .as_deref()
            .ok_or_else(|| HandleError::dead_letter("record has no value"))?;
        let command: CommandEnvelope = wire::decode(payload).map_err(HandleError::dead_letter)?;
        // The key decides the partition, and the partition decides who owns the
        // account: a command keyed by anything else would be decided against
        // the wrong state.
        let key = record.key.as_deref().unwrap_or_default();
        let keyed = std::str::from_utf8(key)
            .ok()
            .and_then(|key| AccountId::parse(key).ok());
        if keyed != Some(command.account_id) {
            return Err(HandleError::dead_letter(format!(
                "record key {:?} does not match the command's account_id {}",
                String::from_utf8_lossy(key),
                command.account_id
            )));
        }
        Ok(command)
    }

    fn result(
        &self,
        command: &CommandEnvelope,
        outcome: CommandOutcome,
        fingerprint: Option<Fingerprint>,
    ) -> OutputRecord {
        let result = CommandResult::new(
            command.command_id,
            command.account_id,
            command.correlation_id,
            Utc::now(),
            outcome,
        )
        .for_transfer(command.command.transfer_id())
        .with_fingerprint(fingerprint);
        OutputRecord {
            topic: self.topics.results.clone(),
            partition: None,
            key: wire::encode_key(command.command_id),
            payload: Some(wire::encode(&result)),
            headers: Vec::new(),
        }
    }

    fn snapshot(&self, partition: i32, account: &Account) -> OutputRecord {
        OutputRecord {
            topic: self.topics.state.clone(),
            partition: Some(partition),
            key: wire::encode_key(account.id),
            payload: Some(wire::encode(&account.to_snapshot())),
            headers: Vec::new(),
        }
    }

    fn remembered(&self, partition: i32, outcome: &RememberedOutcome) -> OutputRecord {
        OutputRecord {
            topic: self.topics.memory.clone(),
            partition: Some(partition),
            key: wire::encode_key(outcome.command_id),
            payload: Some(wire::encode(outcome)),
            headers: Vec::new(),
        }
    }

    fn forgotten(&self, partition: i32, command_id: CommandId) -> OutputRecord {
        OutputRecord {
            topic: self.topics.memory.clone(),
            partition: Some(partition),
            key: wire::encode_key(command_id),
            payload: None,
            headers: Vec::new(),
        }
    }

    /// Decides `command`, applies its events, and stages the new state and
    /// the remembered outcome.
    fn execute(
        &mut self,
        partition: i32,
        command: &CommandEnvelope,
        fingerprint: Fingerprint,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(), ProcessorError> {
        let now = Utc::now();
        let current = self.accounts.get(partition, command.account_id).cloned();
        let decided = domain::decide(current.as_ref(), &command.command, &self.limits, now);
        let outcome = match decided {
            Ok(events) => {
                let mut account = current;
                let mut event_ids = Vec::with_capacity(events.len());
                for event in events {
                    let sequence = account.as_ref().map_or(0, |a| a.version) + 1;
                    let envelope = AccountEventEnvelope::for_command(command, sequence, now, event);
                    // decide produced it from this very state: failing to apply
                    // it is a bug, and writing it anyway would corrupt the log.
                    account = Some(domain::apply(account, &envelope).map_err(|err| {
                        ProcessorError::caused_by(
                            format!(
                                "event decided for command {} does not apply",
                                command.command_id
                            ),
                            err,
                        )
                    })?);
                    event_ids.push(envelope.event_id);
                    out.push(OutputRecord {
                        topic: self.topics.events.clone(),
                        partition: Some(partition),
                        key: wire::encode_key(command.account_id),
                        payload: Some(wire::encode(&envelope)),
                        headers: Vec::new(),
                    });
                }
                let account = account.ok_or_else(|| {
                    ProcessorError::new(format!("command {} decided no events", command.command_id))
                })?;
                let outcome = CommandOutcome::Accepted {
                    version: account.version,
                    balance: account.balance,
                    events: event_ids,
                };
                self.accounts.stage(partition, account);
                outcome
            }
            Err(rejection) => CommandOutcome::Rejected { rejection },
        };
        // Rejections are remembered too — also for an account that does not
        // exist: a credit refused as `account_not_found` stays refused when
        // its retry comes after the account was opened, because the saga has
        // already refunded on the first answer.
        let remembered = self.memory.remember(
            partition,
            command,
            fingerprint.clone(),
            outcome.clone(),
            now,
            self.window,
        );
        out.push(self.remembered(partition, &remembered));
        out.push(self.result(command, outcome, Some(fingerprint)));
        Ok(())
    }
}

impl Processor for CommandProcessor {
    fn assigned(
        &mut self,
        settings: &KafkaSettings,
        partitions: &[TopicPartition],
    ) -> Result<(), ProcessorError> {
        // Accounts and command memory of every partition, read side by side.
        let (accounts, memory) = std::thread::scope(|scope| {
            let memory = scope.spawn(|| {
                restore_partitions::<RememberedOutcome>(
                    settings,
                    &self.topics.memory,
                    partitions,
                    self.restore_limit,
                )
            });
            let accounts = restore_partitions::<AccountSnapshot>(
                settings,
                &self.topics.state,
                partitions,
                self.restore_limit,
            );
            let memory = memory
                .join()
                .unwrap_or_else(|_| Err(ProcessorError::new("a restore thread panicked")));
            (accounts, memory)
        });
        let mut memory: HashMap<i32, Vec<RememberedOutcome>> = memory?.into_iter().collect();
        for (partition, snapshots) in accounts? {
            let remembered = memory.remove(&partition).unwrap_or_default();
            tracing::info!(
                partition,
                accounts = snapshots.len(),
                remembered = remembered.len(),
                "accounts and command memory restored"
            );
            let accounts: HashMap<AccountId, Account> = snapshots
                .iter()
                .map(|snapshot| (snapshot.account_id, Account::from_snapshot(snapshot)))
                .collect();
            self.memory
                .restore(partition, remembered, &snapshots, self.window, Utc::now());
            self.accounts.restore(partition, accounts);
        }
        Ok(())
    }

    fn revoked(&mut self, partitions: &[TopicPartition]) {
        for tp in partitions {
            self.accounts.drop_partition(tp.partition);
            self.memory.drop_partition(tp.partition);
        }
    }

    fn handle(
        &mut self,
        record: &OwnedRecord,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(), HandleError> {
        let command = Self::decode(record)?;
        let fingerprint = Fingerprint::of(&command);
        match self
            .memory
            .recall(record.partition, command.command_id, &fingerprint)
        {
            Recall::Retry(first) => {
                tracing::debug!(command_id = %command.command_id, "repeated command; answering with its first outcome");
                let outcome = first.outcome.clone();
                let bound = first.fingerprint.clone().or(Some(fingerprint));
                out.push(self.result(&command, outcome, bound));
                return Ok(());
            }
            Recall::Reused(first) => {
                tracing::info!(command_id = %command.command_id, "command id reused for a different request; refused");
                let bound = first.fingerprint.clone();
                let outcome = CommandOutcome::rejected(
                    RejectionCode::IdempotencyKeyReused,
                    format!(
                        "command {} (its Idempotency-Key) was already used for a different request; \
                         nothing was changed",
                        command.command_id
                    ),
                );
                out.push(self.result(&command, outcome, bound));
                return Ok(());
            }
            Recall::New => {}
        }
        self.execute(record.partition, &command, fingerprint, out)?;
        Ok(())
    }

    fn tick(&mut self, out: &mut Vec<OutputRecord>) -> Result<(), ProcessorError> {
        for (partition, command_id) in self.memory.forget_expired(Utc::now(), FORGET_PER_TICK) {
            out.push(self.forgotten(partition, command_id));
        }
        Ok(())
    }

    fn finish_batch(&mut self, out: &mut Vec<OutputRecord>) -> Result<(), ProcessorError> {
        // Carried-over outcomes go out no later than the first new snapshot,
        // which no longer carries them.
        for (partition, outcome) in self.memory.take_migrating() {
            out.push(self.remembered(partition, &outcome));
        }
        for (partition, account) in self.accounts.changed() {
            out.push(self.snapshot(partition, account));
        }
        Ok(())
    }

    fn commit(&mut self) {
        self.accounts.commit();
        self.memory.commit();
    }

    fn abort(&mut self) {
        self.accounts.abort();
        self.memory.abort();
    }
}
