//! Typed identifiers.
//!
//! Every id is a UUID, but an account id and a transfer id are not
//! interchangeable, so each gets its own newtype. On the wire an id is the
//! canonical hyphenated lowercase UUID string; parsing accepts any form the
//! `uuid` crate does.

use std::fmt;
use std::str::FromStr;

use serde::de::Deserializer;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::parsed::deserialize_parsed;
use crate::text::excerpt;
use crate::transfer::TransferStep;

/// A string that is not a UUID, with the kind of id that was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {input:?}: {reason}")]
pub struct IdError {
    /// What was being parsed, e.g. `"account id"`.
    pub kind: &'static str,
    /// The offending input, shortened if it was long.
    pub input: String,
    /// Why `uuid` refused it.
    pub reason: uuid::Error,
}

macro_rules! uuid_id {
    // An id this crate mints too, at random (v4) or time-ordered (v7).
    ($(#[$meta:meta])* $name:ident, $label:literal, random) => {
        uuid_id!($(#[$meta])* $name, $label, new_v4, "A fresh random (v4) id.");
    };
    ($(#[$meta:meta])* $name:ident, $label:literal, time_ordered) => {
        uuid_id!(
            $(#[$meta])* $name,
            $label,
            now_v7,
            "A fresh time-ordered (v7) id, so the event ids of one producer sort in \
             the order they were minted."
        );
    };
    ($(#[$meta:meta])* $name:ident, $label:literal, $mint:ident, $mint_doc:literal) => {
        uuid_id!($(#[$meta])* $name, $label);

        // A random id with `Default` would make `..Default::default()` quietly mint
        // fresh ids in struct literals; minting stays an explicit `new()`.
        #[expect(clippy::new_without_default, reason = "ids are minted explicitly")]
        impl $name {
            #[doc = $mint_doc]
            pub fn new() -> Self {
                Self(Uuid::$mint())
            }
        }
    };
    ($(#[$meta:meta])* $name:ident, $label:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Human-readable name of this kind of id, as used in error messages.
            pub const LABEL: &'static str = $label;

            /// Wraps an existing UUID.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            pub const fn as_uuid(self) -> Uuid {
                self.0
            }

            /// Parses a UUID string; the error names the kind of id expected.
            pub fn parse(input: &str) -> Result<Self, IdError> {
                Uuid::parse_str(input).map(Self).map_err(|reason| IdError {
                    kind: Self::LABEL,
                    input: excerpt(input, 40),
                    reason,
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(input: &str) -> Result<Self, IdError> {
                Self::parse(input)
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        // Hand-written rather than `transparent` so a bad id in a record says
        // which id it was ("invalid account id ...") instead of only "UUID
        // parsing failed" — that message is what ends up in a dead-letter header.
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserialize_parsed(deserializer, concat!($label, " (a UUID string)"), $name::parse)
            }
        }
    };
}

uuid_id!(
    /// Identifies an account; the Kafka key of everything account-related.
    AccountId,
    "account id",
    random
);
uuid_id!(
    /// Identifies a transfer between two accounts; the key of transfer topics.
    TransferId,
    "transfer id",
    random
);
uuid_id!(
    /// Identifies a command; the unit of idempotency. A command id seen twice
    /// returns the first outcome and appends nothing.
    CommandId,
    "command id",
    random
);
uuid_id!(
    /// Identifies an event. Always UUIDv7 when minted here, so ids sort by
    /// creation time.
    EventId,
    "event id",
    time_ordered
);
uuid_id!(
    /// Ties together every command and event caused by one external request
    /// (e.g. both legs and the outcome of a transfer).
    CorrelationId,
    "correlation id",
    random
);
uuid_id!(
    /// The stream an event belongs to: an account id for account events, a
    /// transfer id for transfer events. Untyped because one envelope type
    /// serves both; the concrete envelope aliases offer typed accessors.
    StreamId,
    "stream id"
);

/// Namespace of the UUIDv5 ids the transfer saga derives for the commands it
/// emits. Fixed forever: changing it would make a replayed saga emit commands
/// with new ids that dedup no longer recognises.
///
/// It is `UUIDv5(NAMESPACE_URL, "https://github.com/eventbank/eventbank#transfer-commands")`,
/// written out so it can be a constant (a test checks the derivation).
pub const TRANSFER_COMMAND_NAMESPACE: Uuid =
    Uuid::from_u128(0x0bf3_4aa3_9a91_5392_b4ad_93a9_ad37_f661);

impl CommandId {
    /// A deterministic (v5) id for the command issued at `step` of a transfer.
    ///
    /// The saga may replay after a crash and emit the same command again; with
    /// the same id, the account processor's dedup absorbs the replay. The name
    /// hashed is `"{transfer_id}/{step}"`.
    pub fn derived(namespace: &Uuid, transfer_id: TransferId, step: &str) -> Self {
        Self(Uuid::new_v5(
            namespace,
            format!("{transfer_id}/{step}").as_bytes(),
        ))
    }

    /// The id of the command the transfer saga issues at `step`: stable across
    /// replays, different per transfer and per step.
    pub fn for_transfer_step(transfer_id: TransferId, step: TransferStep) -> Self {
        Self::derived(&TRANSFER_COMMAND_NAMESPACE, transfer_id, step.as_str())
    }
}

// The typed ids a stream can be named by.
macro_rules! stream_of {
    ($($id:ident),+) => {$(
        impl From<$id> for StreamId {
            fn from(id: $id) -> Self {
                Self(id.0)
            }
        }
    )+};
}

stream_of!(AccountId, TransferId);

#[cfg(test)]
mod tests {
    use super::*;

    const TRANSFER: TransferId = TransferId::from_uuid(Uuid::from_u128(0x42));

    #[test]
    fn transfer_command_namespace_is_the_documented_derivation() {
        let derived = Uuid::new_v5(
            &Uuid::NAMESPACE_URL,
            b"https://github.com/eventbank/eventbank#transfer-commands",
        );
        assert_eq!(TRANSFER_COMMAND_NAMESPACE, derived, "{derived:#x}");
    }

    #[test]
    fn derived_command_ids_are_stable_and_distinct() {
        let credit = CommandId::for_transfer_step(TRANSFER, TransferStep::Credit);
        assert_eq!(
            credit,
            CommandId::for_transfer_step(TRANSFER, TransferStep::Credit)
        );
        assert_ne!(
            credit,
            CommandId::for_transfer_step(TRANSFER, TransferStep::Refund)
        );
        let other = TransferId::from_uuid(Uuid::from_u128(0x43));
        assert_ne!(
            credit,
            CommandId::for_transfer_step(other, TransferStep::Credit)
        );
        assert_eq!(credit.as_uuid().get_version_num(), 5);
    }

    #[test]
    fn derived_command_ids_never_change() {
        // Pinned: a different value here means every in-flight saga would
        // re-issue its commands under new ids after an upgrade.
        let credit = CommandId::for_transfer_step(TRANSFER, TransferStep::Credit);
        assert_eq!(credit.to_string(), "a50ec753-939e-5867-8de3-c01362a426a6");
    }

    #[test]
    fn event_ids_are_v7_and_time_ordered() {
        let first = EventId::new();
        let second = EventId::new();
        assert_eq!(first.as_uuid().get_version_num(), 7);
        assert!(first < second);
    }

    #[test]
    fn parse_names_the_kind_of_id() {
        let err = AccountId::parse("not-a-uuid").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid account id \"not-a-uuid\""),
            "{err}"
        );
    }

    #[test]
    fn display_and_parse_round_trip() {
        let id = AccountId::new();
        assert_eq!(id.to_string().parse::<AccountId>(), Ok(id));
    }

    #[test]
    fn serde_uses_the_plain_uuid_string() {
        let id = CommandId::from_uuid(Uuid::from_u128(1));
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"00000000-0000-0000-0000-000000000001\"");
        assert_eq!(serde_json::from_str::<CommandId>(&json).unwrap(), id);
        let err = serde_json::from_str::<CommandId>("\"xyz\"").unwrap_err();
        assert!(err.to_string().contains("invalid command id"), "{err}");
        let err = serde_json::from_str::<CommandId>("17").unwrap_err();
        assert!(
            err.to_string().contains("command id (a UUID string)"),
            "{err}"
        );
    }
}
