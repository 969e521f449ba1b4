//! The saga's inbox: copies of transfer legs, re-keyed by transfer id.
//!
//! A record keeps its original bytes (and headers), so the inbox holds
//! exactly what the accounts decided; a header names which record kind it is.

use eventbank_events::{AccountEventEnvelope, CommandResult, TransferId, WireRecord, wire};
use eventbank_runtime::kafka::{OutputRecord, OwnedRecord};

use crate::domain::Input;

/// Which kind of record an inbox record is a copy of (named in
/// `eventbank_events::headers`, which the AsyncAPI document is built from).
pub const KIND_HEADER: &str = eventbank_events::headers::INBOX_KIND;
/// Where the original came from: `<topic>/<partition>/<offset>`.
pub const SOURCE_HEADER: &str = eventbank_events::headers::INBOX_SOURCE;

/// The record kinds the inbox carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxKind {
    AccountEvent,
    CommandResult,
}

impl InboxKind {
    /// The copied record's [`WireRecord::KIND`], the value the AsyncAPI
    /// document gives the kind header.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AccountEvent => AccountEventEnvelope::KIND,
            Self::CommandResult => CommandResult::KIND,
        }
    }

    fn parse(value: &[u8]) -> Option<Self> {
        [Self::AccountEvent, Self::CommandResult]
            .into_iter()
            .find(|kind| kind.as_str().as_bytes() == value)
    }
}

/// The inbox copy of `record`, a leg of `transfer_id`.
pub fn copy(
    record: &OwnedRecord,
    inbox_topic: &str,
    transfer_id: TransferId,
    kind: InboxKind,
) -> OutputRecord {
    let mut headers = record.headers.clone();
    headers.push((KIND_HEADER.to_owned(), kind.as_str().as_bytes().to_vec()));
    headers.push((
        SOURCE_HEADER.to_owned(),
        format!("{}/{}/{}", record.topic, record.partition, record.offset).into_bytes(),
    ));
    OutputRecord {
        topic: inbox_topic.to_owned(),
        partition: None,
        key: wire::encode_key(transfer_id),
        payload: record.payload.clone(),
        headers,
    }
}

/// The saga input an inbox record carries.
///
/// # Errors
///
/// Why the record cannot be an input (it is dead-lettered with that reason).
pub fn read(record: &OwnedRecord) -> Result<Input, String> {
    let kind = record
        .header(KIND_HEADER)
        .and_then(InboxKind::parse)
        .ok_or_else(|| format!("no valid {KIND_HEADER} header"))?;
    let payload = record.payload.as_deref().ok_or("record has no value")?;
    let input = match kind {
        InboxKind::AccountEvent => {
            let envelope: AccountEventEnvelope =
                wire::decode(payload).map_err(|err| err.to_string())?;
            Input::from_event(&envelope)
        }
        InboxKind::CommandResult => {
            let result: CommandResult = wire::decode(payload).map_err(|err| err.to_string())?;
            Input::from_result(&result)
        }
    }
    .ok_or("not a transfer leg the saga acts on")?;
    let keyed = std::str::from_utf8(record.key.as_deref().unwrap_or_default())
        .ok()
        .and_then(|key| TransferId::parse(key).ok());
    // The key decided the partition, and the partition decides who owns the
    // transfer's state: a record keyed otherwise would meet the wrong state.
    if keyed != Some(input.transfer_id()) {
        return Err(format!(
            "record key does not match transfer {}",
            input.transfer_id()
        ));
    }
    Ok(input)
}
