//! Messages: what a record on a channel is — its key, headers and payload
//! schemas — and the schemas themselves, generated from the wire types.

use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value, json};

use super::KAFKA_BINDING_VERSION;
use super::examples::examples;
use crate::dead_letter::{
    HEADER_CONSUMER, HEADER_FAILED_AT, HEADER_REASON, HEADER_SOURCE_OFFSET,
    HEADER_SOURCE_PARTITION, HEADER_SOURCE_TOPIC, MAX_REASON_BYTES,
};
use crate::headers::{INBOX_KIND, INBOX_SOURCE, TRACEPARENT, TRACESTATE};
use crate::ids::{AccountId, CommandId, TransferId};
use crate::topics::{TopicKey, TopicKind};
use crate::wire::{SCHEMA_VERSION_FIELD, WireRecord};
use crate::{
    AccountEventEnvelope, AccountSnapshot, CommandEnvelope, CommandResult, RememberedOutcome,
    TransferEventEnvelope, TransferSagaSnapshot,
};

/// A message of the document (`#/components/messages/<id>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    AccountCommand,
    AccountEvent,
    AccountSnapshot,
    CommandMemory,
    CommandMemoryTombstone,
    CommandResult,
    TransferEvent,
    TransferSagaSnapshot,
    TransferStateTombstone,
    InboxAccountEvent,
    InboxCommandResult,
    DeadLetter,
}

impl Message {
    /// Every message, in the order of the channels that carry them.
    pub const ALL: [Message; 12] = [
        Self::AccountCommand,
        Self::AccountEvent,
        Self::AccountSnapshot,
        Self::CommandMemory,
        Self::CommandMemoryTombstone,
        Self::CommandResult,
        Self::TransferEvent,
        Self::TransferSagaSnapshot,
        Self::TransferStateTombstone,
        Self::InboxAccountEvent,
        Self::InboxCommandResult,
        Self::DeadLetter,
    ];

    /// The message's id in the document.
    pub const fn id(self) -> &'static str {
        match self {
            Self::AccountCommand => "accountCommand",
            Self::AccountEvent => "accountEvent",
            Self::AccountSnapshot => "accountSnapshot",
            Self::CommandMemory => "commandMemory",
            Self::CommandMemoryTombstone => "commandMemoryTombstone",
            Self::CommandResult => "commandResult",
            Self::TransferEvent => "transferEvent",
            Self::TransferSagaSnapshot => "transferSagaSnapshot",
            Self::TransferStateTombstone => "transferStateTombstone",
            Self::InboxAccountEvent => "inboxAccountEvent",
            Self::InboxCommandResult => "inboxCommandResult",
            Self::DeadLetter => "deadLetter",
        }
    }

    /// `$ref` to the message's definition.
    pub(super) fn reference(self) -> Value {
        json!({ "$ref": format!("#/components/messages/{}", self.id()) })
    }

    fn object(self, schemas: &mut Schemas) -> Value {
        use TopicKind as T;
        let traced = || headers(Map::new(), &[]);
        match self {
            Self::AccountCommand => schemas.record::<CommandEnvelope>(
                T::AccountCommands,
                traced(),
                "A command to one account: open, deposit, withdraw, close, or a transfer's debit, credit or refund.",
            ),
            Self::AccountEvent => schemas.record::<AccountEventEnvelope>(
                T::AccountEvents,
                traced(),
                "A fact about one account, at its place (`sequence`) in the account's stream. Balance-changing events carry `balance_after`.",
            ),
            Self::AccountSnapshot => schemas.record::<AccountSnapshot>(
                T::AccountState,
                traced(),
                "An account's state after its latest command, written in the same transaction as that command's events.",
            ),
            Self::CommandMemory => schemas.record::<RememberedOutcome>(
                T::CommandMemory,
                traced(),
                "A decided command, remembered until `expires_at`: a repeat with the same fingerprint gets this outcome, with another one `idempotency_key_reused`.",
            ),
            Self::CommandResult => schemas.record::<CommandResult>(
                T::CommandResults,
                traced(),
                "Whether a command took effect (the account's new version and balance) or why it was refused.",
            ),
            Self::TransferEvent => schemas.record::<TransferEventEnvelope>(
                T::TransferEvents,
                traced(),
                "How a transfer ended: completed, or failed and refunded.",
            ),
            Self::TransferSagaSnapshot => schemas.record::<TransferSagaSnapshot>(
                T::TransferState,
                traced(),
                "A transfer saga's progress, written in the same transaction as the commands it emits.",
            ),
            Self::CommandMemoryTombstone => {
                tombstone(schemas, TopicKey::CommandId, "an expired command-memory record")
            }
            Self::TransferStateTombstone => {
                tombstone(schemas, TopicKey::TransferId, "a finished transfer's saga state")
            }
            Self::InboxAccountEvent => inbox_copy::<AccountEventEnvelope>(
                schemas,
                &["transfer_debited"],
                "A copy of a `transfer_debited` account event (a transfer's first leg), re-keyed by its transfer id.",
            ),
            Self::InboxCommandResult => inbox_copy::<CommandResult>(
                schemas,
                &["rejected_with_transfer_id"],
                "A copy of the result of a credit or refund the saga issued, accepted or rejected (a rejection appends no event), re-keyed by its transfer id.",
            ),
            Self::DeadLetter => dead_letter(),
        }
    }
}

/// Every message of the document, by id, with the schemas they use added to
/// `schemas`.
pub(super) fn all(schemas: &mut Schemas) -> Map<String, Value> {
    Message::ALL
        .into_iter()
        .map(|message| (message.id().to_owned(), message.object(schemas)))
        .collect()
}

/// The schemas of the document (`#/components/schemas`), generated from the
/// wire types by schemars under JSON Schema draft 7, which AsyncAPI's
/// default schema format extends.
#[derive(Debug)]
pub(super) struct Schemas {
    generator: SchemaGenerator,
}

impl Schemas {
    pub(super) fn new() -> Self {
        let settings = SchemaSettings::draft07().with(|settings| {
            settings.definitions_path = "/components/schemas".into();
            settings.meta_schema = None;
        });
        let mut schemas = Self {
            generator: settings.into_generator(),
        };
        let definitions = schemas.generator.definitions_mut();
        definitions.insert("TraceParent".to_owned(), trace_parent());
        definitions.insert(
            "TraceState".to_owned(),
            json!({
                "type": "string",
                "description": "W3C trace state (vendor data), beside `traceparent` when there is any.",
            }),
        );
        schemas
    }

    /// `$ref` to `T`'s schema, adding it (and what it uses) if new.
    fn of<T: JsonSchema>(&mut self) -> Value {
        Schema::to_value(self.generator.subschema_for::<T>())
    }

    fn key(&mut self, key: TopicKey) -> Value {
        match key {
            TopicKey::AccountId => self.of::<AccountId>(),
            TopicKey::CommandId => self.of::<CommandId>(),
            TopicKey::TransferId => self.of::<TransferId>(),
        }
    }

    /// `$ref` to a record's payload schema, whose `schema_version` is pinned
    /// to the version that shape is: the derive only knows it is a `u32`.
    fn payload<T: WireRecord + JsonSchema>(&mut self) -> Value {
        let reference = self.of::<T>();
        let version = json!({
            "type": "integer",
            "const": T::CURRENT_VERSION,
            "description": format!(
                "The version of the record's shape; this schema describes version {}. Consumers upcast older versions and dead-letter newer ones.",
                T::CURRENT_VERSION
            ),
        });
        let definition = self
            .generator
            .definitions_mut()
            .get_mut(T::schema_name().as_ref())
            .and_then(|schema| schema.get_mut("properties"))
            .and_then(|properties| properties.get_mut(SCHEMA_VERSION_FIELD))
            .expect("every wire record has a top-level schema_version");
        *definition = version;
        reference
    }

    /// The message of a record of type `T` on `topic`, keyed as the topic is.
    fn record<T: WireRecord + JsonSchema>(
        &mut self,
        topic: TopicKind,
        headers: Value,
        summary: &str,
    ) -> Value {
        let key = self.key(topic.key());
        self.message::<T>(key, headers, summary)
    }

    fn message<T: WireRecord + JsonSchema>(
        &mut self,
        key: Value,
        headers: Value,
        summary: &str,
    ) -> Value {
        json!({
            "name": T::KIND,
            "title": title(T::KIND),
            "summary": summary,
            "contentType": "application/json",
            "headers": headers,
            "payload": self.payload::<T>(),
            "bindings": { "kafka": { "key": key, "bindingVersion": KAFKA_BINDING_VERSION } },
            "examples": examples(T::KIND, T::CURRENT_VERSION, &[]),
        })
    }

    pub(super) fn into_definitions(mut self) -> Map<String, Value> {
        self.generator.take_definitions(true)
    }
}

/// `account-command` → `Account command`.
fn title(kind: &str) -> String {
    let spaced = kind.replace('-', " ");
    let mut chars = spaced.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// A headers schema: the trace context every produced record may carry,
/// plus `extra`. Other headers are allowed (a copy keeps the original's).
fn headers(extra: Map<String, Value>, required: &[&str]) -> Value {
    let mut properties = Map::new();
    properties.insert(
        TRACEPARENT.to_owned(),
        json!({ "$ref": "#/components/schemas/TraceParent" }),
    );
    properties.insert(
        TRACESTATE.to_owned(),
        json!({ "$ref": "#/components/schemas/TraceState" }),
    );
    properties.extend(extra);
    json!({ "type": "object", "properties": properties, "required": required })
}

fn trace_parent() -> Value {
    json!({
        "type": "string",
        "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
        "description": "W3C trace context, added to every record produced while tracing is on, so the consumer continues the producer's trace.",
    })
}

fn tombstone(schemas: &mut Schemas, key: TopicKey, what: &str) -> Value {
    json!({
        "name": "tombstone",
        "title": "Tombstone",
        "summary": format!("A record without a value: compaction deletes {what}."),
        "headers": headers(Map::new(), &[]),
        "payload": { "type": "null" },
        "bindings": {
            "kafka": { "key": schemas.key(key), "bindingVersion": KAFKA_BINDING_VERSION },
        },
    })
}

fn inbox_copy<T: WireRecord + JsonSchema>(
    schemas: &mut Schemas,
    example_names: &[&str],
    summary: &str,
) -> Value {
    let mut extra = Map::new();
    extra.insert(
        INBOX_KIND.to_owned(),
        json!({ "const": T::KIND, "description": "The kind of record copied." }),
    );
    extra.insert(
        INBOX_SOURCE.to_owned(),
        json!({
            "type": "string",
            "pattern": "^.+/[0-9]+/[0-9]+$",
            "description": "Where the original was read: `<topic>/<partition>/<offset>`.",
        }),
    );
    let key = schemas.key(TopicKind::TransferSagaInbox.key());
    let headers = headers(extra, &[INBOX_KIND, INBOX_SOURCE]);
    let mut message = schemas.message::<T>(key, headers, summary);
    message["title"] = Value::from(format!("{} (inbox copy)", title(T::KIND)));
    message["examples"] = examples(T::KIND, T::CURRENT_VERSION, example_names);
    message
}

fn dead_letter() -> Value {
    let text = |description: &str| json!({ "type": "string", "description": description });
    let integer = |description: &str| json!({ "type": "string", "pattern": "^-?[0-9]+$", "description": description });
    let mut extra = Map::new();
    for (name, schema) in [
        (
            HEADER_REASON,
            json!({
                "type": "string",
                "maxLength": MAX_REASON_BYTES,
                "description": format!("Why the record could not be processed: the decode error. At most {MAX_REASON_BYTES} bytes (cut with `…`)."),
            }),
        ),
        (
            HEADER_SOURCE_TOPIC,
            text("The topic the record was read from."),
        ),
        (
            HEADER_SOURCE_PARTITION,
            integer("Its partition there (decimal)."),
        ),
        (HEADER_SOURCE_OFFSET, integer("Its offset there (decimal).")),
        (
            HEADER_CONSUMER,
            text("The consumer that gave up on it: service and consumer group."),
        ),
        (
            HEADER_FAILED_AT,
            json!({ "type": "string", "format": "date-time", "description": "When it was dead-lettered (RFC 3339, UTC)." }),
        ),
    ] {
        extra.insert(name.to_owned(), schema);
    }
    let required = [
        HEADER_REASON,
        HEADER_SOURCE_TOPIC,
        HEADER_SOURCE_PARTITION,
        HEADER_SOURCE_OFFSET,
        HEADER_CONSUMER,
        HEADER_FAILED_AT,
    ];
    json!({
        "name": "dead-letter",
        "title": "Dead letter",
        "summary": "A record a consumer could not decode: its original key, value and headers, untouched, with the dead-letter headers after them (a record dead-lettered twice carries its latest failure last).",
        "contentType": "application/octet-stream",
        "headers": headers(extra, &required),
        "payload": { "description": "The original value's bytes, as they were: possibly not JSON, possibly absent." },
        "bindings": {
            "kafka": {
                "key": { "description": "The original key's bytes, as they were." },
                "bindingVersion": KAFKA_BINDING_VERSION,
            },
        },
    })
}
