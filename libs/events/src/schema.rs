//! JSON Schemas of the types whose serde impls are written by hand (ids,
//! money, currency, holder, fingerprint), for the `schema` feature.
//!
//! Every other wire type derives `schemars::JsonSchema` next to its serde
//! derive, so its schema follows the same attributes (tags, renames,
//! `deny_unknown_fields`). The types here validate in their `Deserialize`
//! impls instead, which schemars cannot see: their schemas restate those
//! rules (a UUID string, a positive integer, three uppercase letters), and
//! the fixture tests hold the two together.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use crate::holder::Holder;
use crate::ids::{AccountId, CommandId, CorrelationId, EventId, StreamId, TransferId};
use crate::memory::Fingerprint;
use crate::money::{Amount, Currency, Money};

/// A named schema (a `$ref` to `components.schemas.<name>` in the AsyncAPI
/// document), so each id and money type is described once.
macro_rules! named_schema {
    ($ty:ty, $name:literal, $($schema:tt)+) => {
        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }

            fn schema_id() -> Cow<'static, str> {
                Cow::Borrowed(concat!("eventbank_events::", $name))
            }

            fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
                json_schema!($($schema)+)
            }
        }
    };
}

/// Ids are canonical hyphenated lowercase UUID text on the wire
/// ([`crate::wire::encode_key`] and serde agree). The pattern says so, as
/// well as the format: draft 7 has no `uuid` format, so validators of it
/// skip the format. The decoder also reads other spellings `uuid` parses;
/// no producer writes them, and a key must be canonical to partition right.
macro_rules! uuid_schema {
    ($ty:ty, $name:literal, $description:literal) => {
        named_schema!($ty, $name, {
            "type": "string",
            "format": "uuid",
            "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
            "description": $description,
        });
    };
}

uuid_schema!(AccountId, "AccountId", "An account's id (a UUID).");
uuid_schema!(TransferId, "TransferId", "A transfer's id (a UUID).");
uuid_schema!(
    CommandId,
    "CommandId",
    "A command's id (a UUID), the unit of idempotency. Ids of the commands the transfer saga issues are UUIDv5, derived from the transfer id and step."
);
uuid_schema!(
    EventId,
    "EventId",
    "An event's id: a UUIDv7, so the ids of one producer sort by time."
);
uuid_schema!(
    CorrelationId,
    "CorrelationId",
    "Ties together every command and event caused by one external request (a UUID)."
);
uuid_schema!(
    StreamId,
    "StreamId",
    "The stream an event belongs to: the account id of an account event, the transfer id of a transfer event."
);

named_schema!(Money, "Money", {
    "type": "integer",
    "format": "int64",
    "description": "A signed amount of money in minor units (cents), a 64-bit integer. Never a float.",
});

named_schema!(Amount, "Amount", {
    "type": "integer",
    "format": "int64",
    "minimum": 1,
    "description": "A strictly positive amount of money in minor units (cents), a 64-bit integer. Never a float.",
});

named_schema!(Currency, "Currency", {
    "type": "string",
    "pattern": "^[A-Z]{3}$",
    "description": "An ISO-4217 currency code: exactly three uppercase ASCII letters, e.g. EUR.",
});

// `Holder::MAX_CHARS` is 200; JSON Schema's maxLength counts characters
// (code points), as the parser does. Control characters (Unicode Cc) are
// refused by the parser and by the pattern.
named_schema!(Holder, "Holder", {
    "type": "string",
    "minLength": 1,
    "maxLength": 200,
    "pattern": "^[^\\u0000-\\u001F\\u007F-\\u009F]+$",
    "description": "The account holder's name: trimmed, 1 to 200 characters, no control characters.",
});

named_schema!(Fingerprint, "Fingerprint", {
    "type": "string",
    "pattern": "^[0-9a-f]{64}$",
    "description": "SHA-256 of what a command asks for (its account and command body, not its id or time), as lowercase hex.",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holder_limit_matches_the_parser() {
        let schema = schemars::schema_for!(Holder);
        assert_eq!(schema.get("maxLength"), Some(&Holder::MAX_CHARS.into()));
    }
}
