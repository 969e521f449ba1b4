//! Fixed sample values (one per variant) and the serde probe that lists an
//! enum's variants.
//! Each kind of message has its own file; the ids and values they share are
//! here.

mod commands;
mod events;
mod outcomes;
mod serde_probe;
mod snapshots;

use chrono::{DateTime, TimeZone, Utc};
use eventbank_events::{AccountId, Amount, CommandId, CorrelationId, EventId, Holder, TransferId};
use uuid::uuid;

pub use commands::commands;
pub use events::{account_events, transfer_events};
pub use outcomes::{command_results, remembered_outcomes};
pub use serde_probe::serde_variants;
pub use snapshots::{account_snapshots, saga_snapshots};

pub const ANN: AccountId = AccountId::from_uuid(uuid!("5f0c6f1e-8a8b-4d2a-9d55-3c1f2b7e4a10"));
pub const BOB: AccountId = AccountId::from_uuid(uuid!("c2a9e4b7-1d3f-4e8a-b6c5-7f2e9d1a0b34"));
pub const TRANSFER: TransferId =
    TransferId::from_uuid(uuid!("9b1d7e2c-4f6a-4c8b-a3d5-e7f9012b3c4d"));
pub const COMMAND: CommandId = CommandId::from_uuid(uuid!("3e8f1a2b-5c6d-4e7f-8a9b-0c1d2e3f4a5b"));
pub const CORRELATION: CorrelationId =
    CorrelationId::from_uuid(uuid!("7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d"));
/// The `TransferDebited` event that starts the saga.
pub const DEBITED_EVENT: EventId =
    EventId::from_uuid(uuid!("01935b2e-6a00-7c3b-9c2d-1e0f2a3b4c5d"));
pub const EVENT: EventId = EventId::from_uuid(uuid!("01935b2e-6f18-7d4c-8d3e-2f1a3b4c5d6e"));
pub const EVENT_2: EventId = EventId::from_uuid(uuid!("01935b2e-6f18-7e5d-9e4f-3a2b4c5d6e7f"));

pub fn at(minute: u32, millis: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 11, 23, 9, minute, 0)
        .single()
        .expect("valid date")
        + chrono::Duration::milliseconds(i64::from(millis))
}

pub fn amount(minor_units: i64) -> Amount {
    Amount::new(minor_units).expect("positive")
}

pub fn holder() -> Holder {
    Holder::parse("Ann Lee").expect("valid holder")
}
