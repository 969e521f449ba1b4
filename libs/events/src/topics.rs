//! The Kafka topics, their keys, and how they are created.
//!
//! | topic              | key         | record                     | cleanup                |
//! |--------------------|-------------|----------------------------|------------------------|
//! | `account-commands` | account id  | [`CommandEnvelope`]        | delete, 7 days         |
//! | `account-events`   | account id  | [`AccountEventEnvelope`]   | delete, never expires  |
//! | `account-state`    | account id  | [`AccountSnapshot`]        | compact                |
//! | `command-memory`   | command id  | [`RememberedOutcome`] (tombstoned on expiry) | compact  |
//! | `command-results`  | command id  | [`CommandResult`]          | delete, 6 hours        |
//! | `transfer-events`  | transfer id | [`TransferEventEnvelope`]  | delete, never expires  |
//! | `transfer-state`   | transfer id | [`TransferSagaSnapshot`]   | compact                |
//! | `transfer-saga-inbox` | transfer id | a copy of a transfer leg's event or rejected result | delete, 7 days |
//! | `<topic>.dlq`      | as source   | the original bytes         | delete, 14 days        |
//!
//! Keys are the id as canonical hyphenated UUID text
//! ([`encode_key`](crate::wire::encode_key)); every producer must use exactly
//! that, or records of one account land on different partitions.
//!
//! `account-commands`, `account-events` and `account-state` are
//! co-partitioned ([`CO_PARTITIONED_GROUPS`]): same key, same partition count,
//! so whoever owns partition *p* of the commands owns the events and state of
//! every account in *p*. `command-memory` belongs to the same group although
//! it is keyed by command id: the processor writes each record to its
//! command's partition number explicitly, so the owner of *p* restores the
//! memory of exactly the commands it decides.
//!
//! `transfer-saga-inbox` is the saga's internal repartition topic (like a
//! Kafka Streams `-repartition` topic): a transfer's legs happen on two
//! accounts, i.e. on two partitions of `account-events`, and a rejected
//! credit appears only on `command-results` (keyed by command id). The saga
//! copies each of them, re-keyed by transfer id, into the inbox, which is
//! co-partitioned with `transfer-state`: whoever owns inbox partition *p* owns
//! the state of every transfer in *p*.
//!
//! [`CommandEnvelope`]: crate::CommandEnvelope
//! [`AccountEventEnvelope`]: crate::AccountEventEnvelope
//! [`AccountSnapshot`]: crate::AccountSnapshot
//! [`RememberedOutcome`]: crate::RememberedOutcome
//! [`CommandResult`]: crate::CommandResult
//! [`TransferEventEnvelope`]: crate::TransferEventEnvelope
//! [`TransferSagaSnapshot`]: crate::TransferSagaSnapshot

mod cleanup;
mod layout;
mod names;

use std::fmt;

pub use layout::{TopicLayout, TopicLayoutError, TopicSpec};
pub use names::{TopicNameError, Topics};

/// Appended to a topic's name to name its dead-letter topic.
pub const DLQ_SUFFIX: &str = ".dlq";

/// Groups of topics that must have the same partition count because their
/// records are routed by the same key and processed together.
pub const CO_PARTITIONED_GROUPS: &[&[TopicKind]] = &[
    &[
        TopicKind::AccountCommands,
        TopicKind::AccountEvents,
        TopicKind::AccountState,
        TopicKind::CommandMemory,
    ],
    &[TopicKind::TransferSagaInbox, TopicKind::TransferState],
];

/// One of the system's topics (each also has a dead-letter topic).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TopicKind {
    AccountCommands,
    AccountEvents,
    AccountState,
    CommandMemory,
    CommandResults,
    TransferEvents,
    TransferState,
    TransferSagaInbox,
}

/// What a topic's records are keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TopicKey {
    AccountId,
    CommandId,
    TransferId,
}

impl TopicKind {
    /// Every topic, in the order they are created.
    pub const ALL: [TopicKind; 8] = [
        Self::AccountCommands,
        Self::AccountEvents,
        Self::AccountState,
        Self::CommandMemory,
        Self::CommandResults,
        Self::TransferEvents,
        Self::TransferState,
        Self::TransferSagaInbox,
    ];

    /// The name without prefix, e.g. `"account-events"`.
    pub const fn base_name(self) -> &'static str {
        match self {
            Self::AccountCommands => "account-commands",
            Self::AccountEvents => "account-events",
            Self::AccountState => "account-state",
            Self::CommandMemory => "command-memory",
            Self::CommandResults => "command-results",
            Self::TransferEvents => "transfer-events",
            Self::TransferState => "transfer-state",
            Self::TransferSagaInbox => "transfer-saga-inbox",
        }
    }

    /// What the topic's records are keyed by.
    pub const fn key(self) -> TopicKey {
        match self {
            Self::AccountCommands | Self::AccountEvents | Self::AccountState => TopicKey::AccountId,
            Self::CommandMemory | Self::CommandResults => TopicKey::CommandId,
            Self::TransferEvents | Self::TransferState | Self::TransferSagaInbox => {
                TopicKey::TransferId
            }
        }
    }

    /// What decides the partition a record lands on. The key, except for
    /// `command-memory`: keyed by command id (one record per command, for
    /// compaction) but written to the partition of the command's account.
    pub const fn routing_key(self) -> TopicKey {
        match self {
            Self::CommandMemory => TopicKey::AccountId,
            _ => self.key(),
        }
    }

    /// The [`WireRecord::KIND`](crate::WireRecord::KIND) of the records on this
    /// topic. The saga inbox holds copies of two kinds; its records name theirs
    /// in a header, and this answers the one transfers start with.
    pub const fn record_kind(self) -> &'static str {
        match self {
            Self::AccountCommands => "account-command",
            Self::AccountEvents => "account-event",
            Self::AccountState => "account-snapshot",
            Self::CommandMemory => "command-memory",
            Self::CommandResults => "command-result",
            Self::TransferEvents => "transfer-event",
            Self::TransferState => "transfer-saga-snapshot",
            Self::TransferSagaInbox => "account-event",
        }
    }
}

impl fmt::Display for TopicKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.base_name())
    }
}
