//! A stored audit record, as read back from PostgreSQL, and its export forms
//! (JSON object, JSON Lines, CSV).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio_postgres::Row;
use uuid::Uuid;

use crate::canonical::{ChainedFields, timestamp, to_hex};

/// Declares [`AuditRecord`] from its columns, in table order, so the struct,
/// [`COLUMNS`] and [`AuditRecord::from_row`] list them once between them.
macro_rules! audit_record {
    ($first:ident: $first_ty:ty, $($field:ident: $ty:ty,)+) => {
        /// The columns every read selects, in [`AuditRecord::from_row`]'s order.
        pub const COLUMNS: &str = concat!(stringify!($first) $(, ", ", stringify!($field))+);

        /// One row of `audit_records`.
        #[derive(Debug, Clone, PartialEq)]
        pub struct AuditRecord {
            pub $first: $first_ty,
            $(pub $field: $ty,)+
        }

        impl AuditRecord {
            /// Reads [`COLUMNS`] starting at column `first`.
            pub fn from_row(row: &Row, first: usize) -> Result<Self, tokio_postgres::Error> {
                let mut column = first;
                Ok(Self {
                    $first: row.try_get(column)?,
                    $($field: {
                        column += 1;
                        row.try_get(column)?
                    },)+
                })
            }
        }
    };
}

audit_record! {
    stream_id: Uuid,
    position: i64,
    stream_kind: String,
    sequence: Option<i64>,
    event_id: Uuid,
    record_type: String,
    payload: Value,
    kafka_topic: String,
    kafka_partition: i32,
    kafka_offset: i64,
    occurred_at: DateTime<Utc>,
    recorded_at: DateTime<Utc>,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

impl AuditRecord {
    /// The columns the hash covers, as stored.
    pub fn fields(&self) -> ChainedFields<'_> {
        ChainedFields {
            stream_id: self.stream_id,
            stream_kind: &self.stream_kind,
            position: self.position,
            sequence: self.sequence,
            event_id: self.event_id,
            record_type: &self.record_type,
            payload: &self.payload,
            kafka_topic: &self.kafka_topic,
            kafka_partition: self.kafka_partition,
            kafka_offset: self.kafka_offset,
            occurred_at: self.occurred_at,
            recorded_at: self.recorded_at,
        }
    }

    /// The JSON (and JSON Lines) form: flat, hashes in hex, timestamps as hashed.
    pub fn to_json(&self) -> Value {
        json!({
            "stream_id": self.stream_id,
            "stream_kind": self.stream_kind,
            "position": self.position,
            "sequence": self.sequence,
            "event_id": self.event_id,
            "type": self.record_type,
            "payload": self.payload,
            "kafka_topic": self.kafka_topic,
            "kafka_partition": self.kafka_partition,
            "kafka_offset": self.kafka_offset,
            "occurred_at": timestamp(self.occurred_at),
            "recorded_at": timestamp(self.recorded_at),
            "prev_hash": to_hex(&self.prev_hash),
            "hash": to_hex(&self.hash),
        })
    }

    /// One CSV line (with its `\r\n`), columns as in [`CSV_HEADER`]; the
    /// payload is its compact JSON.
    pub fn to_csv_line(&self) -> String {
        let fields = [
            self.stream_id.to_string(),
            self.stream_kind.clone(),
            self.position.to_string(),
            self.sequence.map(|s| s.to_string()).unwrap_or_default(),
            self.event_id.to_string(),
            self.record_type.clone(),
            self.kafka_topic.clone(),
            self.kafka_partition.to_string(),
            self.kafka_offset.to_string(),
            timestamp(self.occurred_at),
            timestamp(self.recorded_at),
            to_hex(&self.prev_hash),
            to_hex(&self.hash),
            self.payload.to_string(),
        ];
        csv_line(&fields)
    }
}

/// The CSV export's header line.
pub const CSV_HEADER: &str = "stream_id,stream_kind,position,sequence,event_id,type,kafka_topic,\
     kafka_partition,kafka_offset,occurred_at,recorded_at,prev_hash,hash,payload\r\n";

/// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
fn csv_line(fields: &[String]) -> String {
    let mut line = String::new();
    for (index, field) in fields.iter().enumerate() {
        if index > 0 {
            line.push(',');
        }
        if field.contains([',', '"', '\n', '\r']) {
            line.push('"');
            line.push_str(&field.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(field);
        }
    }
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_the_table_order() {
        assert_eq!(
            COLUMNS,
            "stream_id, position, stream_kind, sequence, event_id, record_type, payload, \
             kafka_topic, kafka_partition, kafka_offset, occurred_at, recorded_at, prev_hash, hash"
        );
    }

    #[test]
    fn csv_quotes_only_what_needs_it() {
        let line = csv_line(&["plain".into(), "a,b".into(), "say \"hi\"".into(), "".into()]);
        assert_eq!(line, "plain,\"a,b\",\"say \"\"hi\"\"\",\r\n");
    }

    #[test]
    fn csv_header_and_lines_have_the_same_columns() {
        let record = AuditRecord {
            stream_id: Uuid::nil(),
            position: 1,
            stream_kind: "account".into(),
            sequence: None,
            event_id: Uuid::nil(),
            record_type: "command_rejected".into(),
            payload: json!({"a": 1}),
            kafka_topic: "t".into(),
            kafka_partition: 0,
            kafka_offset: 0,
            occurred_at: DateTime::UNIX_EPOCH,
            recorded_at: DateTime::UNIX_EPOCH,
            prev_hash: vec![0; 32],
            hash: vec![1; 32],
        };
        let columns = CSV_HEADER.trim_end().split(',').count();
        let line = record.to_csv_line();
        assert!(line.ends_with("\"{\"\"a\"\":1}\"\r\n"), "{line}");
        // No field but the payload is quoted here, and it holds no comma.
        assert_eq!(line.trim_end().split(',').count(), columns);
        assert_eq!(record.to_json()["prev_hash"], "0".repeat(64));
    }
}
