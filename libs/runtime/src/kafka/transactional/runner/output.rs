//! Sending what the processor produced (and dead letters, built by
//! [`crate::kafka::dead_letter_record`]) with the transaction's producer.

use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::BaseRecord;

use super::TransactionalLoop;
use crate::kafka::transactional::processor::Processor;
use crate::kafka::{OutputRecord, headers_of};

impl<P: Processor> TransactionalLoop<P> {
    pub(super) fn send(&self, output: &OutputRecord) -> Result<(), KafkaError> {
        let mut record: BaseRecord<'_, [u8], [u8]> =
            BaseRecord::to(&output.topic).headers(headers_of(&output.headers));
        // Every output of ours has a key; an empty one is a dead letter of
        // a record that had none, and stays without one.
        if !output.key.is_empty() {
            record = record.key(output.key.as_slice());
        }
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
}
