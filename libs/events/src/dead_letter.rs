//! Dead-letter metadata.
//!
//! A consumer that cannot decode a record copies the record's original key and
//! value bytes, untouched, to `<topic>.dlq`, and says why in headers. Keeping
//! the bytes rather than a re-encoding means nothing is lost even when the
//! bytes are not valid JSON, and a fixed consumer can replay them as they were.
//! The original record's own headers (e.g. `traceparent`) should be copied too.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::text::excerpt;

/// Why the record could not be processed (a [`DecodeError`](crate::DecodeError) message).
pub const HEADER_REASON: &str = "eventbank-dlq-reason";
/// The topic the record was read from.
pub const HEADER_SOURCE_TOPIC: &str = "eventbank-dlq-source-topic";
/// Its partition there (decimal).
pub const HEADER_SOURCE_PARTITION: &str = "eventbank-dlq-source-partition";
/// Its offset there (decimal).
pub const HEADER_SOURCE_OFFSET: &str = "eventbank-dlq-source-offset";
/// The consumer that gave up on it (service and group), since several
/// consumers read the same topics.
pub const HEADER_CONSUMER: &str = "eventbank-dlq-consumer";
/// When it was dead-lettered (RFC 3339, UTC).
pub const HEADER_FAILED_AT: &str = "eventbank-dlq-failed-at";

/// Longest reason written to a header, in bytes. Decode errors may quote the
/// input; an unbounded reason could push the dead letter past the broker's
/// maximum message size, and a dead letter that cannot be written stops the
/// partition — exactly what the dead-letter topic exists to prevent.
pub const MAX_REASON_BYTES: usize = 2048;

/// Where a dead letter came from and why; travels as record headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub source_topic: String,
    pub partition: i32,
    pub offset: i64,
    pub consumer: String,
    pub reason: String,
    pub failed_at: DateTime<Utc>,
}

/// A dead-letter header that is missing or unreadable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeadLetterHeaderError {
    #[error("dead letter has no `{0}` header")]
    Missing(&'static str),
    #[error("dead-letter header `{header}` is invalid: {problem}")]
    Invalid {
        header: &'static str,
        problem: String,
    },
}

impl DeadLetter {
    /// The headers to add to the dead-letter record, values as UTF-8 text.
    /// The reason is cut to [`MAX_REASON_BYTES`].
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        vec![
            (HEADER_REASON, bounded_reason(&self.reason)),
            (HEADER_SOURCE_TOPIC, self.source_topic.clone()),
            (HEADER_SOURCE_PARTITION, self.partition.to_string()),
            (HEADER_SOURCE_OFFSET, self.offset.to_string()),
            (HEADER_CONSUMER, self.consumer.clone()),
            (
                HEADER_FAILED_AT,
                self.failed_at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            ),
        ]
    }

    /// Reads the metadata back from a dead-letter record's headers. Other
    /// headers are ignored. If a header occurs more than once, the last one
    /// wins: producers append, so a record that was dead-lettered, replayed
    /// and dead-lettered again carries its latest failure last.
    pub fn from_headers<I, K, V>(headers: I) -> Result<Self, DeadLetterHeaderError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<[u8]>,
    {
        let mut reason = None;
        let mut source_topic = None;
        let mut partition = None;
        let mut offset = None;
        let mut consumer = None;
        let mut failed_at = None;
        for (key, value) in headers {
            let slot = match key.as_ref() {
                HEADER_REASON => &mut reason,
                HEADER_SOURCE_TOPIC => &mut source_topic,
                HEADER_SOURCE_PARTITION => &mut partition,
                HEADER_SOURCE_OFFSET => &mut offset,
                HEADER_CONSUMER => &mut consumer,
                HEADER_FAILED_AT => &mut failed_at,
                _ => continue,
            };
            *slot = Some(value.as_ref().to_vec());
        }

        Ok(Self {
            reason: text(HEADER_REASON, reason)?,
            source_topic: text(HEADER_SOURCE_TOPIC, source_topic)?,
            partition: parsed(HEADER_SOURCE_PARTITION, partition)?,
            offset: parsed(HEADER_SOURCE_OFFSET, offset)?,
            consumer: text(HEADER_CONSUMER, consumer)?,
            failed_at: DateTime::parse_from_rfc3339(&text(HEADER_FAILED_AT, failed_at)?)
                .map(|at| at.with_timezone(&Utc))
                .map_err(|error| invalid(HEADER_FAILED_AT, error))?,
        })
    }
}

fn bounded_reason(reason: &str) -> String {
    if reason.len() <= MAX_REASON_BYTES {
        return reason.to_owned();
    }
    // Leave room for the `…` (3 bytes) that `excerpt` appends.
    let budget = MAX_REASON_BYTES - '…'.len_utf8();
    let chars = reason
        .char_indices()
        .take_while(|(at, c)| at + c.len_utf8() <= budget)
        .count();
    excerpt(reason, chars)
}

fn text(header: &'static str, value: Option<Vec<u8>>) -> Result<String, DeadLetterHeaderError> {
    let bytes = value.ok_or(DeadLetterHeaderError::Missing(header))?;
    String::from_utf8(bytes).map_err(|error| invalid(header, error))
}

fn parsed<T>(header: &'static str, value: Option<Vec<u8>>) -> Result<T, DeadLetterHeaderError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let value = text(header, value)?;
    value
        .parse()
        .map_err(|error| invalid(header, format!("{value:?}: {error}")))
}

fn invalid(header: &'static str, problem: impl ToString) -> DeadLetterHeaderError {
    DeadLetterHeaderError::Invalid {
        header,
        problem: problem.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn sample() -> DeadLetter {
        DeadLetter {
            source_topic: "account-events".into(),
            partition: 3,
            offset: 1_234_567,
            consumer: "balance-projector/projector".into(),
            reason: "account-event: invalid JSON: EOF while parsing at line 1 column 9".into(),
            failed_at: Utc
                .timestamp_opt(1_700_000_000, 123_456_789)
                .single()
                .unwrap(),
        }
    }

    #[test]
    fn headers_round_trip() {
        let letter = sample();
        let headers = letter.headers();
        assert_eq!(headers.len(), 6);
        let back =
            DeadLetter::from_headers(headers.iter().map(|(k, v)| (*k, v.as_bytes()))).unwrap();
        assert_eq!(back, letter);
    }

    #[test]
    fn header_values_are_plain_text() {
        let headers = sample().headers();
        let value = |name| &headers.iter().find(|(k, _)| *k == name).unwrap().1;
        assert_eq!(value(HEADER_SOURCE_PARTITION), "3");
        assert_eq!(value(HEADER_SOURCE_OFFSET), "1234567");
        assert_eq!(value(HEADER_FAILED_AT), "2023-11-14T22:13:20.123456789Z");
    }

    #[test]
    fn unrelated_headers_are_ignored_and_the_last_duplicate_wins() {
        let mut headers: Vec<(String, Vec<u8>)> = vec![("traceparent".into(), b"00-ab".to_vec())];
        headers.push((HEADER_SOURCE_OFFSET.into(), b"1".to_vec()));
        headers.extend(
            sample()
                .headers()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.into_bytes())),
        );
        let back = DeadLetter::from_headers(headers).unwrap();
        assert_eq!(back.offset, 1_234_567);
    }

    #[test]
    fn missing_and_invalid_headers_are_named() {
        let headers = sample().headers();
        let without_consumer = headers
            .iter()
            .filter(|(k, _)| *k != HEADER_CONSUMER)
            .map(|(k, v)| (*k, v.as_bytes()));
        assert_eq!(
            DeadLetter::from_headers(without_consumer),
            Err(DeadLetterHeaderError::Missing(HEADER_CONSUMER))
        );

        let bad_partition = headers.iter().map(|(k, v)| {
            let v = if *k == HEADER_SOURCE_PARTITION {
                "three"
            } else {
                v.as_str()
            };
            (*k, v.as_bytes())
        });
        let err = DeadLetter::from_headers(bad_partition)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(HEADER_SOURCE_PARTITION) && err.contains("three"),
            "{err}"
        );
    }

    #[test]
    fn long_reasons_are_bounded_on_a_char_boundary() {
        let letter = DeadLetter {
            reason: "é".repeat(5_000),
            ..sample()
        };
        let headers = letter.headers();
        let reason = &headers[0].1;
        assert!(reason.len() <= MAX_REASON_BYTES, "{}", reason.len());
        assert!(reason.ends_with('…'));
        assert!(
            reason.len() > MAX_REASON_BYTES - 8,
            "not cut needlessly short"
        );
    }
}
