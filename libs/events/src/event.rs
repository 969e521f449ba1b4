//! Events: the facts the system is built from.
//!
//! [`AccountEvent`]s live on `account-events` (keyed by account id) and are
//! the event store — kept forever, only ever appended by the account-command
//! processor. [`TransferEvent`]s live on `transfer-events` (keyed by transfer
//! id) and record how each transfer saga ended.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::command::CommandEnvelope;
use crate::holder::Holder;
use crate::ids::{AccountId, CommandId, CorrelationId, EventId, StreamId, TransferId};
use crate::money::{Amount, Currency, Money};
use crate::transfer::TransferFailureReason;
use crate::wire::{TypeTag, Upcaster, WireRecord};
use crate::wire_macros::{domain_event, wire_tags};

/// An event payload type, carried in an [`EventEnvelope`].
///
/// The envelope and its payload are versioned together, as one record; these
/// items become the envelope's [`WireRecord`] items.
pub trait DomainEvent: Serialize + DeserializeOwned {
    /// The envelope's [`WireRecord::KIND`], e.g. `"account-event"`.
    const ENVELOPE_KIND: &'static str;
    /// The envelope's [`WireRecord::CURRENT_VERSION`].
    const CURRENT_VERSION: u32;
    /// Every `type` tag, in declaration order.
    const TYPES: &'static [&'static str];
    /// The envelope's [`WireRecord::upcasters`]; they see the whole envelope.
    fn upcasters() -> &'static [Upcaster] {
        &[]
    }
    /// This event's `type` tag on the wire.
    fn event_type(&self) -> &'static str;
}

/// Something that happened to an account.
///
/// Every balance-changing event carries `balance_after`, so a consumer can
/// check its own arithmetic (the audit log reconciles on it) and a reader
/// never needs the history to know the balance at an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AccountEvent {
    /// Always the stream's first event (sequence 1); the balance starts at zero.
    AccountOpened {
        holder: Holder,
        currency: Currency,
    },
    MoneyDeposited {
        amount: Amount,
        balance_after: Money,
    },
    MoneyWithdrawn {
        amount: Amount,
        balance_after: Money,
    },
    AccountClosed {},
    /// The source side of a transfer: money left this account and is in
    /// flight until the transfer completes or is refunded.
    TransferDebited {
        transfer_id: TransferId,
        to: AccountId,
        amount: Amount,
        /// The source's currency, which the credit must match.
        currency: Currency,
        balance_after: Money,
    },
    /// The target side of a transfer: money arrived.
    TransferCredited {
        transfer_id: TransferId,
        from: AccountId,
        amount: Amount,
        balance_after: Money,
        /// The credit command's deadline. Until then the account remembers
        /// this credit and refuses a repeat of it (after it, the deadline
        /// does). Absent in events written before deadlines existed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deadline: Option<DateTime<Utc>>,
    },
    /// A debit given back to the source because the credit failed.
    TransferRefunded {
        transfer_id: TransferId,
        amount: Amount,
        reason: TransferFailureReason,
        balance_after: Money,
    },
}

wire_tags!(
    AccountEvent,
    /// Every `type` tag, in declaration order. Kept honest by a test that
    /// compares it with what serde derives from the enum.
    TYPES,
    /// This event's `type` tag on the wire.
    event_type,
    {
        AccountOpened => "account_opened",
        MoneyDeposited => "money_deposited",
        MoneyWithdrawn => "money_withdrawn",
        AccountClosed => "account_closed",
        TransferDebited => "transfer_debited",
        TransferCredited => "transfer_credited",
        TransferRefunded => "transfer_refunded",
    }
);

impl AccountEvent {
    /// The balance right after this event, for events that change (or set) it.
    pub const fn balance_after(&self) -> Option<Money> {
        match self {
            Self::MoneyDeposited { balance_after, .. }
            | Self::MoneyWithdrawn { balance_after, .. }
            | Self::TransferDebited { balance_after, .. }
            | Self::TransferCredited { balance_after, .. }
            | Self::TransferRefunded { balance_after, .. } => Some(*balance_after),
            Self::AccountOpened { .. } | Self::AccountClosed {} => None,
        }
    }
}

domain_event!(AccountEvent, kind: "account-event", version: 1);

/// How a transfer ended; the stream is the transfer id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum TransferEvent {
    /// The target was credited; the money is no longer in flight.
    TransferCompleted {
        from: AccountId,
        to: AccountId,
        amount: Amount,
        currency: Currency,
    },
    /// The credit failed and the source was refunded.
    TransferFailed {
        from: AccountId,
        to: AccountId,
        amount: Amount,
        currency: Currency,
        reason: TransferFailureReason,
    },
}

wire_tags!(
    TransferEvent,
    /// Every `type` tag, in declaration order.
    TYPES,
    /// This event's `type` tag on the wire.
    event_type,
    {
        TransferCompleted => "transfer_completed",
        TransferFailed => "transfer_failed",
    }
);

domain_event!(TransferEvent, kind: "transfer-event", version: 1);

/// An event with its position in its stream and its provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "{E}Envelope")
)]
#[serde(deny_unknown_fields)]
pub struct EventEnvelope<E> {
    pub schema_version: u32,
    /// UUIDv7: unique, and time-ordered per producer.
    pub event_id: EventId,
    /// The account (account events) or transfer (transfer events); the Kafka key.
    pub stream_id: StreamId,
    /// Position in the stream: the first event is 1 and there are no gaps, so
    /// a consumer can tell a duplicate (`<=` what it has) from a gap (`>` next).
    pub sequence: u64,
    pub occurred_at: DateTime<Utc>,
    /// The command this event results from. For transfer events, the saga
    /// command whose outcome decided the transfer (the credit or the refund).
    pub command_id: CommandId,
    /// The event that (through a command) led to this one, if any: e.g. a
    /// `TransferCredited` is caused by the `TransferDebited` before it.
    pub causation_id: Option<EventId>,
    pub correlation_id: CorrelationId,
    pub event: E,
}

/// An envelope on `account-events`.
pub type AccountEventEnvelope = EventEnvelope<AccountEvent>;
/// An envelope on `transfer-events`.
pub type TransferEventEnvelope = EventEnvelope<TransferEvent>;

impl AccountEventEnvelope {
    /// The envelope for an event that `command` produced at `sequence`, with a
    /// fresh event id and the command's provenance carried over.
    pub fn for_command(
        command: &CommandEnvelope,
        sequence: u64,
        occurred_at: DateTime<Utc>,
        event: AccountEvent,
    ) -> Self {
        Self {
            schema_version: <Self as WireRecord>::CURRENT_VERSION,
            event_id: EventId::new(),
            stream_id: command.account_id.into(),
            sequence,
            occurred_at,
            command_id: command.command_id,
            causation_id: command.causation_id,
            correlation_id: command.correlation_id,
            event,
        }
    }

    /// The account this event belongs to.
    pub const fn account_id(&self) -> AccountId {
        AccountId::from_uuid(self.stream_id.as_uuid())
    }
}

impl TransferEventEnvelope {
    /// The transfer this event belongs to.
    pub const fn transfer_id(&self) -> TransferId {
        TransferId::from_uuid(self.stream_id.as_uuid())
    }
}

impl<E: DomainEvent> WireRecord for EventEnvelope<E> {
    const KIND: &'static str = E::ENVELOPE_KIND;
    const CURRENT_VERSION: u32 = E::CURRENT_VERSION;
    const TYPE_TAG: Option<TypeTag> = Some(TypeTag {
        path: &["event", "type"],
        known: E::TYPES,
    });

    fn upcasters() -> &'static [Upcaster] {
        E::upcasters()
    }

    fn key(&self) -> Uuid {
        self.stream_id.as_uuid()
    }

    fn written_version(&self) -> Option<u32> {
        Some(self.schema_version)
    }
}
