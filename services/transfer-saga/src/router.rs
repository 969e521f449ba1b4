//! Stage one: copies what the saga acts on into the inbox, keyed by transfer
//! id: each `TransferDebited` (from `account-events`, on the source's
//! partition) and each answer to a credit or refund the saga issued (from
//! `command-results`, keyed by command id). It brings them together on the
//! transfer's inbox partition, exactly once (a Kafka transaction per batch,
//! like every writer here), keeping each source partition's order. It keeps
//! no state.

use eventbank_events::{AccountEventEnvelope, CommandResult, TopicKind, Topics, wire};
use eventbank_runtime::kafka::transactional::{
    HandleError, Processor, ProcessorError, TopicPartition,
};
use eventbank_runtime::kafka::{KafkaSettings, OutputRecord, OwnedRecord};

use crate::domain::Input;
use crate::inbox::{self, InboxKind};

#[derive(Debug)]
pub struct Router {
    topics: Topics,
    inbox: String,
}

impl Router {
    pub fn new(topics: Topics) -> Self {
        let inbox = topics.name(TopicKind::TransferSagaInbox);
        Self { topics, inbox }
    }
}

impl Processor for Router {
    fn assigned(&mut self, _: &KafkaSettings, _: &[TopicPartition]) -> Result<(), ProcessorError> {
        Ok(())
    }

    fn revoked(&mut self, _: &[TopicPartition]) {}

    fn handle(
        &mut self,
        record: &OwnedRecord,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(), HandleError> {
        let payload = record
            .payload
            .as_deref()
            .ok_or_else(|| HandleError::dead_letter("record has no value"))?;
        let undecodable = |err: wire::DecodeError| HandleError::dead_letter(err);
        let (input, kind) = match self.topics.kind_of(&record.topic) {
            Some(TopicKind::AccountEvents) => {
                let envelope: AccountEventEnvelope = wire::decode(payload).map_err(undecodable)?;
                (Input::from_event(&envelope), InboxKind::AccountEvent)
            }
            Some(TopicKind::CommandResults) => {
                let result: CommandResult = wire::decode(payload).map_err(undecodable)?;
                (Input::from_result(&result), InboxKind::CommandResult)
            }
            _ => {
                return Err(HandleError::Fatal(ProcessorError::new(format!(
                    "the router does not read {}",
                    record.topic
                ))));
            }
        };
        if let Some(input) = input {
            out.push(inbox::copy(record, &self.inbox, input.transfer_id(), kind));
        }
        Ok(())
    }

    fn commit(&mut self) {}

    fn abort(&mut self) {}
}
