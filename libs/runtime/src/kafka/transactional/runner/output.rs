//! Turning what the processor produced into producer records: an output as
//! it is, a refused input as a dead letter carrying its original bytes.

use std::time::Duration;

use eventbank_events::DeadLetter;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::BaseRecord;

use super::{LoopError, TransactionalLoop};
use crate::kafka::transactional::processor::Processor;
use crate::kafka::{OutputRecord, OwnedRecord};

impl<P: Processor> TransactionalLoop<P> {
    pub(super) fn send(&self, output: &OutputRecord) -> Result<(), KafkaError> {
        let mut headers = OwnedHeaders::new_with_capacity(output.headers.len());
        for (key, value) in &output.headers {
            headers = headers.insert(Header {
                key,
                value: Some(value.as_slice()),
            });
        }
        let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(&output.topic)
            .key(output.key.as_slice())
            .headers(headers);
        if let Some(payload) = &output.payload {
            record = record.payload(payload.as_slice());
        }
        if let Some(partition) = output.partition {
            record = record.partition(partition);
        }
        loop {
            match self.producers.current().send(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                    record = returned;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err((err, _)) => return Err(err),
            }
        }
    }

    pub(super) fn dead_letter(
        &self,
        record: &OwnedRecord,
        reason: String,
    ) -> Result<OutputRecord, LoopError> {
        let topic = self
            .config
            .dead_letter_topics
            .get(&record.topic)
            .ok_or_else(|| LoopError::NoDeadLetterTopic(record.topic.clone()))?;
        let metadata = DeadLetter {
            source_topic: record.topic.clone(),
            partition: record.partition,
            offset: record.offset,
            consumer: self.config.name.clone(),
            reason,
            failed_at: chrono::Utc::now(),
        };
        // The original key, value and headers travel unchanged: a dead letter
        // can be replayed byte for byte once the cause is fixed.
        let mut headers = record.headers.clone();
        headers.extend(
            metadata
                .headers()
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value.into_bytes())),
        );
        Ok(OutputRecord {
            topic: topic.clone(),
            partition: None,
            key: record.key.clone().unwrap_or_default(),
            payload: record.payload.clone(),
            headers,
        })
    }
}
