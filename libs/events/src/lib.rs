//! The shared schema of eventbank: the only vocabulary its services use to talk
//! to each other through Kafka.
//!
//! Everything that crosses a topic is defined here: identifiers, money, the
//! commands sent to accounts, the events they produce, command results, the
//! snapshots kept on compacted state topics, dead-letter metadata, the topic
//! layout itself, and the versioned JSON wire format that ties them together.
//! The contract these types implement is `shared/DESIGN.md`.
//!
//! The crate is deliberately pure — serde, uuid, chrono and thiserror only, no
//! Kafka client and no I/O — so every service, test and tool can depend on it.
//!
//! Its `schema` feature (off in every service) derives the JSON Schema of
//! every wire type with schemars, from the same serde attributes, and builds
//! the AsyncAPI document of the topics from them (module `asyncapi`, checked in
//! as `docs/asyncapi.json`).
//!
//! # Invariants the types enforce
//!
//! * Money is an integer number of minor units with checked arithmetic
//!   ([`Money`]); amounts in commands and events are strictly positive
//!   ([`Amount`]); currencies are three uppercase ASCII letters ([`Currency`]).
//!   These are checked when bytes are decoded, not just when values are built.
//! * Every record on the wire carries a `schema_version`; [`wire::decode`]
//!   refuses versions newer than it understands and upcasts older ones.
//! * Unknown fields and unknown `type` tags are errors, never silently ignored:
//!   a record this build does not fully understand belongs in a dead-letter
//!   topic, not half-applied.
//!
//! # Example
//!
//! ```
//! use chrono::Utc;
//! use eventbank_events::{
//!     AccountCommand, AccountId, Amount, CommandEnvelope, CommandId, CorrelationId, wire,
//!     wire::WireRecord,
//! };
//!
//! let deposit = CommandEnvelope::new(
//!     CommandId::new(),
//!     AccountId::new(),
//!     CorrelationId::new(),
//!     Utc::now(),
//!     AccountCommand::Deposit { amount: Amount::new(500)? },
//! );
//! let key = wire::encode_key(deposit.key()); // the account id, as UUID text
//! let value = wire::encode(&deposit);
//!
//! let decoded: CommandEnvelope = wire::decode(&value)?;
//! assert_eq!(decoded, deposit);
//! # assert_eq!(key, deposit.account_id.to_string().into_bytes());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Wire compatibility
//!
//! `tests/fixtures/` holds one checked-in JSON document per record variant. The
//! golden tests decode each of them and re-encode the expected value, so a
//! change that would stop today's code from reading yesterday's bytes fails CI.
//! Changing a record's shape means bumping its
//! [`WireRecord::CURRENT_VERSION`] and registering an [`Upcaster`]; the old
//! fixtures stay as they are.

#[cfg(feature = "schema")]
pub mod asyncapi;
pub mod command;
pub mod dead_letter;
pub mod event;
pub mod headers;
pub mod holder;
pub mod ids;
pub mod memory;
pub mod money;
mod parsed;
pub mod result;
#[cfg(feature = "schema")]
mod schema;
pub mod snapshot;
#[cfg(feature = "testing")]
pub mod testing;
mod text;
pub mod topics;
pub mod transfer;
pub mod wire;
mod wire_macros;

pub use command::{AccountCommand, CommandEnvelope};
pub use dead_letter::{DeadLetter, DeadLetterHeaderError};
pub use event::{
    AccountEvent, AccountEventEnvelope, DomainEvent, EventEnvelope, TransferEvent,
    TransferEventEnvelope,
};
pub use holder::{Holder, HolderError};
pub use ids::{AccountId, CommandId, CorrelationId, EventId, IdError, StreamId, TransferId};
pub use memory::{Fingerprint, RememberedOutcome};
pub use money::{Amount, Currency, CurrencyError, Money, MoneyError};
pub use result::{CommandOutcome, CommandResult, Rejection, RejectionCode};
pub use snapshot::{
    AccountSnapshot, AccountStatus, RememberedCommand, SettledLeg, SettledStep,
    TransferSagaSnapshot,
};
pub use topics::{
    TopicKey, TopicKind, TopicLayout, TopicLayoutError, TopicNameError, TopicSpec, Topics,
};
pub use transfer::{SagaStep, TransferFailureReason, TransferStep};
pub use wire::{DecodeError, TypeTag, Upcaster, WireRecord, decode, decode_any_version, encode};
