//! Records detached from librdkafka's buffers: [`OwnedRecord`] consumed,
//! [`OutputRecord`] to produce, so processors never touch client types.

use eventbank_events::{DeadLetter, DeadLetterHeaderError};
use rdkafka::Message;
use rdkafka::message::{BorrowedMessage, Header, Headers, OwnedHeaders};

/// A consumed record detached from the consumer's buffers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedRecord {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub payload: Option<Vec<u8>>,
    pub headers: Vec<(String, Vec<u8>)>,
    /// Milliseconds since the epoch, when the broker or producer set one.
    pub timestamp_ms: Option<i64>,
}

impl OwnedRecord {
    pub fn from_message(message: &BorrowedMessage<'_>) -> Self {
        let headers = message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|header| {
                        (
                            header.key.to_owned(),
                            header.value.map(<[u8]>::to_vec).unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            topic: message.topic().to_owned(),
            partition: message.partition(),
            offset: message.offset(),
            key: message.key().map(<[u8]>::to_vec),
            payload: message.payload().map(<[u8]>::to_vec),
            headers,
            timestamp_ms: message.timestamp().to_millis(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_slice())
    }

    /// The dead-letter metadata this record carries, if it is a dead letter.
    pub fn dead_letter(&self) -> Result<DeadLetter, DeadLetterHeaderError> {
        DeadLetter::from_headers(self.headers.iter().map(|(key, value)| (key, value)))
    }
}

/// A record to produce. `partition: None` lets the partitioner choose by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputRecord {
    pub topic: String,
    pub partition: Option<i32>,
    pub key: Vec<u8>,
    /// `None` is a tombstone (deletes the key from a compacted topic).
    pub payload: Option<Vec<u8>>,
    pub headers: Vec<(String, Vec<u8>)>,
}

/// Record headers as librdkafka takes them.
pub fn headers_of(pairs: &[(String, Vec<u8>)]) -> OwnedHeaders {
    let mut headers = OwnedHeaders::new_with_capacity(pairs.len());
    for (key, value) in pairs {
        headers = headers.insert(Header {
            key,
            value: Some(value.as_slice()),
        });
    }
    headers
}
