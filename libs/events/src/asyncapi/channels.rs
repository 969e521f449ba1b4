//! Channels: one per topic, plus one for every topic's dead-letter topic,
//! with Kafka channel bindings taken from the topic specs the services
//! create, so the document says what the cluster really holds.

use serde_json::{Map, Value, json};

use super::KAFKA_BINDING_VERSION;
use super::messages::Message;
use crate::topics::{DLQ_SUFFIX, TopicKind, TopicLayout, TopicSpec, Topics};

/// A channel of the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// One of the system's topics.
    Topic(TopicKind),
    /// `<topic>.dlq` of any topic: one channel with the topic as a parameter,
    /// since every dead-letter topic carries the same kind of record.
    DeadLetters,
}

impl Channel {
    /// Every channel, in the order of [`TopicKind::ALL`], dead letters last.
    pub const ALL: [Channel; 9] = [
        Self::Topic(TopicKind::AccountCommands),
        Self::Topic(TopicKind::AccountEvents),
        Self::Topic(TopicKind::AccountState),
        Self::Topic(TopicKind::CommandMemory),
        Self::Topic(TopicKind::CommandResults),
        Self::Topic(TopicKind::TransferEvents),
        Self::Topic(TopicKind::TransferState),
        Self::Topic(TopicKind::TransferSagaInbox),
        Self::DeadLetters,
    ];

    /// The channel's id in the document (`#/channels/<id>`).
    pub const fn id(self) -> &'static str {
        match self {
            Self::Topic(kind) => match kind {
                TopicKind::AccountCommands => "accountCommands",
                TopicKind::AccountEvents => "accountEvents",
                TopicKind::AccountState => "accountState",
                TopicKind::CommandMemory => "commandMemory",
                TopicKind::CommandResults => "commandResults",
                TopicKind::TransferEvents => "transferEvents",
                TopicKind::TransferState => "transferState",
                TopicKind::TransferSagaInbox => "transferSagaInbox",
            },
            Self::DeadLetters => "deadLetters",
        }
    }

    /// The messages a record on this channel can be.
    pub const fn messages(self) -> &'static [Message] {
        use Message as M;
        match self {
            Self::Topic(kind) => match kind {
                TopicKind::AccountCommands => &[M::AccountCommand],
                TopicKind::AccountEvents => &[M::AccountEvent],
                TopicKind::AccountState => &[M::AccountSnapshot],
                TopicKind::CommandMemory => &[M::CommandMemory, M::CommandMemoryTombstone],
                TopicKind::CommandResults => &[M::CommandResult],
                TopicKind::TransferEvents => &[M::TransferEvent],
                TopicKind::TransferState => &[M::TransferSagaSnapshot, M::TransferStateTombstone],
                TopicKind::TransferSagaInbox => &[M::InboxAccountEvent, M::InboxCommandResult],
            },
            Self::DeadLetters => &[M::DeadLetter],
        }
    }

    /// `$ref` to one of this channel's messages, as operations name them.
    pub(super) fn message_ref(self, message: Message) -> Value {
        json!({ "$ref": format!("#/channels/{}/messages/{}", self.id(), message.id()) })
    }

    /// `$ref` to this channel.
    pub(super) fn reference(self) -> Value {
        json!({ "$ref": format!("#/channels/{}", self.id()) })
    }

    fn address(self) -> String {
        match self {
            Self::Topic(kind) => format!("{{prefix}}{}", kind.base_name()),
            Self::DeadLetters => format!("{{prefix}}{{topic}}{DLQ_SUFFIX}"),
        }
    }

    fn description(self) -> &'static str {
        match self {
            Self::Topic(kind) => match kind {
                TopicKind::AccountCommands => {
                    "Commands to accounts, keyed by account id. The account-command processor of the partition decides each, in order, against the account's state."
                }
                TopicKind::AccountEvents => {
                    "The event store: every fact about every account, keyed by account id, kept forever. Only the account-command processor appends, in the Kafka transaction that consumed the command; each account's events have gapless sequences from 1."
                }
                TopicKind::AccountState => {
                    "Each account's latest state, keyed by account id and compacted; the processor restores from it when it is assigned a partition."
                }
                TopicKind::CommandMemory => {
                    "One record per decided command, keyed by command id, compacted, and written to the partition of the command's account: the authority on idempotency. An expired record is tombstoned."
                }
                TopicKind::CommandResults => {
                    "The outcome of every command, keyed by command id: what the HTTP API waits for, how the saga learns of a rejected credit or refund, and the audit trail's record of refusals. Kept for hours."
                }
                TopicKind::TransferEvents => {
                    "How each transfer ended, keyed by transfer id, kept forever."
                }
                TopicKind::TransferState => {
                    "Each transfer saga's progress, keyed by transfer id and compacted; a finished transfer is tombstoned. The saga restores from it when it is assigned a partition."
                }
                TopicKind::TransferSagaInbox => {
                    "The transfer saga's internal repartition topic: copies of the transfer legs it acts on (debits from account-events, the results of the credits and refunds it issued from command-results), re-keyed by transfer id so that each lands with its transfer's state. The copy keeps the original value and headers."
                }
            },
            Self::DeadLetters => {
                "Records a consumer could not decode, copied untouched (key, value and headers) to the dead-letter topic of the topic they were read from, with headers saying why. Operators read, fix and replay them."
            }
        }
    }

    /// The channel object, with `spec`'s partitions, replicas and configs.
    fn object(self, spec: &TopicSpec) -> Value {
        let messages: Map<String, Value> = self
            .messages()
            .iter()
            .map(|message| (message.id().to_owned(), message.reference()))
            .collect();
        let mut parameters = Map::new();
        parameters.insert("prefix".to_owned(), prefix_parameter());
        if self == Self::DeadLetters {
            parameters.insert("topic".to_owned(), topic_parameter());
        }
        json!({
            "address": self.address(),
            "title": match self {
                Self::Topic(kind) => kind.base_name().to_owned(),
                Self::DeadLetters => format!("<topic>{DLQ_SUFFIX}"),
            },
            "description": self.description(),
            "parameters": parameters,
            "messages": messages,
            "bindings": { "kafka": kafka_binding(spec) },
        })
    }
}

/// Every channel of the document, by id, for `layout`.
pub(super) fn all(layout: &TopicLayout) -> Map<String, Value> {
    // The specs under an empty prefix: the prefix changes names, never configs.
    let topics = Topics::default();
    let specs = topics.specs(layout);
    Channel::ALL
        .into_iter()
        .map(|channel| {
            let name = match channel {
                Channel::Topic(kind) => topics.name(kind),
                // Every dead-letter topic gets the same spec.
                Channel::DeadLetters => topics.dlq(TopicKind::AccountCommands),
            };
            let spec = specs
                .iter()
                .find(|spec| spec.name == name)
                .expect("Topics::specs has every topic and dead-letter topic");
            (channel.id().to_owned(), channel.object(spec))
        })
        .collect()
}

fn prefix_parameter() -> Value {
    json!({
        "description": "The topic prefix every service is configured with (`kafka.topic_prefix`), prepended verbatim: it carries its own separator. Empty by default; tests use one per run to isolate themselves.",
        "default": "",
        "examples": ["", "staging.", "it-42."],
    })
}

fn topic_parameter() -> Value {
    let names: Vec<&str> = TopicKind::ALL.iter().map(|kind| kind.base_name()).collect();
    json!({
        "description": "The topic (without prefix) the dead-lettered record was read from.",
        "enum": names,
    })
}

/// A Kafka channel binding: partitions, replicas and the topic configs the
/// services create the topic with (numbers as numbers, `cleanup.policy` as
/// the list the binding schema wants).
fn kafka_binding(spec: &TopicSpec) -> Value {
    let configuration: Map<String, Value> = spec
        .configs
        .iter()
        .map(|(key, value)| {
            let value = if key == "cleanup.policy" {
                Value::from(value.split(',').map(str::trim).collect::<Vec<_>>())
            } else {
                value
                    .parse::<i64>()
                    .map_or_else(|_| Value::from(value.as_str()), Value::from)
            };
            (key.clone(), value)
        })
        .collect();
    json!({
        "partitions": spec.partitions,
        "replicas": spec.replication_factor,
        "topicConfiguration": configuration,
        "bindingVersion": KAFKA_BINDING_VERSION,
    })
}
