//! One command in, its events, snapshot and result out.

use std::time::Duration;

use chrono::Utc;
use eventbank_events::{
    AccountCommand, AccountEventEnvelope, AccountId, CommandEnvelope, CommandOutcome,
    CommandResult, TopicKind, Topics, wire,
};
use eventbank_runtime::kafka::transactional::{
    HandleError, Processor, ProcessorError, TopicPartition,
};
use eventbank_runtime::kafka::{KafkaSettings, OutputRecord, OwnedRecord};

use super::accounts::{Accounts, Entry};
use super::restore::restore_partition;
use crate::domain::{self, Account, Limits};

/// The topics the processor writes.
#[derive(Debug, Clone)]
pub struct ProcessorTopics {
    pub commands: String,
    pub events: String,
    pub state: String,
    pub results: String,
}

impl ProcessorTopics {
    pub fn new(topics: &Topics) -> Self {
        Self {
            commands: topics.name(TopicKind::AccountCommands),
            events: topics.name(TopicKind::AccountEvents),
            state: topics.name(TopicKind::AccountState),
            results: topics.name(TopicKind::CommandResults),
        }
    }
}

#[derive(Debug)]
pub struct CommandProcessor {
    topics: ProcessorTopics,
    limits: Limits,
    remembered_commands: usize,
    restore_limit: Duration,
    accounts: Accounts,
}

impl CommandProcessor {
    pub fn new(
        topics: ProcessorTopics,
        limits: Limits,
        remembered_commands: usize,
        restore_limit: Duration,
    ) -> Self {
        Self {
            topics,
            limits,
            remembered_commands,
            restore_limit,
            accounts: Accounts::default(),
        }
    }

    fn decode(record: &OwnedRecord) -> Result<CommandEnvelope, HandleError> {
        let payload = record
            .payload
            .as_deref()
            .ok_or_else(|| HandleError::DeadLetter("record has no value".into()))?;
        let command: CommandEnvelope =
            wire::decode(payload).map_err(|err| HandleError::DeadLetter(err.to_string()))?;
        // The key decides the partition, and the partition decides who owns the
        // account: a command keyed by anything else would be decided against
        // the wrong state.
        let key = record.key.as_deref().unwrap_or_default();
        let keyed = std::str::from_utf8(key)
            .ok()
            .and_then(|key| AccountId::parse(key).ok());
        if keyed != Some(command.account_id) {
            return Err(HandleError::DeadLetter(format!(
                "record key {:?} does not match the command's account_id {}",
                String::from_utf8_lossy(key),
                command.account_id
            )));
        }
        Ok(command)
    }

    fn result(&self, command: &CommandEnvelope, outcome: CommandOutcome) -> OutputRecord {
        let result = CommandResult::new(
            command.command_id,
            command.account_id,
            command.correlation_id,
            Utc::now(),
            outcome,
        )
        .for_transfer(command.command.transfer_id());
        OutputRecord {
            topic: self.topics.results.clone(),
            partition: None,
            key: wire::encode_key(command.command_id),
            payload: Some(wire::encode(&result)),
            headers: Vec::new(),
        }
    }

    fn snapshot(&self, partition: i32, entry: &Entry) -> OutputRecord {
        OutputRecord {
            topic: self.topics.state.clone(),
            partition: Some(partition),
            key: wire::encode_key(entry.account.id),
            payload: Some(wire::encode(&entry.snapshot())),
            headers: Vec::new(),
        }
    }

    /// Decides `command`, applies its events, and stages the new state.
    fn execute(
        &mut self,
        partition: i32,
        command: &CommandEnvelope,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(), ProcessorError> {
        let current = self.accounts.get(partition, command.account_id).cloned();
        let decided = domain::decide(
            current.as_ref().map(|entry| &entry.account),
            &command.command,
            &self.limits,
            Utc::now(),
        );
        let (mut entry, outcome) = match decided {
            Ok(events) => {
                let now = Utc::now();
                let mut account: Option<Account> =
                    current.as_ref().map(|entry| entry.account.clone());
                let mut event_ids = Vec::with_capacity(events.len());
                for event in events {
                    let sequence = account.as_ref().map_or(0, |a| a.version) + 1;
                    let envelope = AccountEventEnvelope::for_command(command, sequence, now, event);
                    // decide produced it from this very state: failing to apply
                    // it is a bug, and writing it anyway would corrupt the log.
                    account = Some(domain::apply(account, &envelope).map_err(|err| {
                        ProcessorError::new(format!(
                            "event decided for command {} does not apply: {err}",
                            command.command_id
                        ))
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
                let recent = current.map(|entry| entry.recent).unwrap_or_default();
                (Some(Entry { account, recent }), outcome)
            }
            Err(rejection) => (current, CommandOutcome::Rejected { rejection }),
        };
        // A rejection on an account that exists is remembered too, so a retry
        // gets the same answer even if the account changed in between. A
        // command for an account that does not exist has nowhere to be
        // remembered; repeating it can only be rejected again or, once the
        // account exists, applied for the first time.
        if let Some(entry) = entry.as_mut() {
            entry.remember(
                command.command_id,
                outcome.clone(),
                self.remembered_commands,
            );
            out.push(self.snapshot(partition, entry));
        }
        if let Some(entry) = entry {
            self.accounts.stage(partition, entry);
        }
        out.push(self.result(command, outcome));
        Ok(())
    }
}

impl Processor for CommandProcessor {
    fn assigned(
        &mut self,
        settings: &KafkaSettings,
        partitions: &[TopicPartition],
    ) -> Result<(), ProcessorError> {
        for tp in partitions {
            let accounts = restore_partition(
                settings,
                &self.topics.state,
                tp.partition,
                self.restore_limit,
            )?;
            tracing::info!(
                partition = tp.partition,
                accounts = accounts.len(),
                "accounts restored"
            );
            self.accounts.restore(tp.partition, accounts);
        }
        Ok(())
    }

    fn revoked(&mut self, partitions: &[TopicPartition]) {
        for tp in partitions {
            self.accounts.drop_partition(tp.partition);
        }
    }

    fn handle(
        &mut self,
        record: &OwnedRecord,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(), HandleError> {
        let command = Self::decode(record)?;
        if let Some(outcome) = self
            .accounts
            .get(record.partition, command.account_id)
            .and_then(|entry| entry.remembered(command.command_id))
            .cloned()
        {
            tracing::debug!(command_id = %command.command_id, "repeated command; answering with its first outcome");
            out.push(self.result(&command, outcome));
            return Ok(());
        }
        self.execute(record.partition, &command, out)?;
        if matches!(command.command, AccountCommand::OpenAccount { .. }) {
            tracing::debug!(account_id = %command.account_id, "account opened");
        }
        Ok(())
    }

    fn commit(&mut self) {
        self.accounts.commit();
    }

    fn abort(&mut self) {
        self.accounts.abort();
    }
}
