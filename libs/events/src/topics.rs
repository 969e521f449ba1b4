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

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Appended to a topic's name to name its dead-letter topic.
pub const DLQ_SUFFIX: &str = ".dlq";

/// Kafka's limit on topic name length.
const MAX_TOPIC_NAME_LEN: usize = 249;

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

/// How a topic gets rid of old records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Cleanup {
    /// Delete after the given retention (`None`: never).
    Delete(Option<u64>),
    /// Keep the latest record per key.
    Compact,
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

    fn cleanup(self, layout: &TopicLayout) -> Cleanup {
        match self {
            // The inbox, like the commands, is only needed until processed.
            Self::AccountCommands | Self::TransferSagaInbox => {
                Cleanup::Delete(Some(layout.command_retention_ms))
            }
            // The event topics are the system of record: never expire.
            Self::AccountEvents | Self::TransferEvents => Cleanup::Delete(None),
            Self::AccountState | Self::CommandMemory | Self::TransferState => Cleanup::Compact,
            Self::CommandResults => Cleanup::Delete(Some(layout.command_results_retention_ms)),
        }
    }
}

impl fmt::Display for TopicKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.base_name())
    }
}

/// Topic names under one prefix.
///
/// The prefix is prepended verbatim, so it carries its own separator:
/// `Topics::new("it-42.")` names `it-42.account-events`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Topics {
    prefix: String,
}

/// A prefix that would make an illegal Kafka topic name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicNameError {
    #[error("topic prefix {0:?} may contain only ASCII letters, digits, '.', '_' and '-'")]
    InvalidCharacter(String),
    #[error(
        "topic prefix {prefix:?} makes {name:?} longer than Kafka's {MAX_TOPIC_NAME_LEN} characters"
    )]
    TooLong { prefix: String, name: String },
}

impl Topics {
    /// Names under `prefix` (may be empty). See [`Topics::validate`].
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    /// Checks that every name (DLQs included) is a legal Kafka topic name,
    /// so a bad prefix fails at configuration time instead of at topic creation.
    pub fn validate(&self) -> Result<(), TopicNameError> {
        let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if !self.prefix.chars().all(legal) {
            return Err(TopicNameError::InvalidCharacter(self.prefix.clone()));
        }
        match TopicKind::ALL
            .into_iter()
            .map(|kind| self.dlq(kind))
            .find(|name| name.len() > MAX_TOPIC_NAME_LEN)
        {
            Some(name) => Err(TopicNameError::TooLong {
                prefix: self.prefix.clone(),
                name,
            }),
            None => Ok(()),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The topic's full name.
    pub fn name(&self, kind: TopicKind) -> String {
        format!("{}{}", self.prefix, kind.base_name())
    }

    /// The full name of the topic's dead-letter topic: `<name>.dlq`.
    pub fn dlq(&self, kind: TopicKind) -> String {
        format!("{}{DLQ_SUFFIX}", self.name(kind))
    }

    /// Which topic `name` is, if it is one of ours (DLQs excluded). Lets a
    /// consumer of several topics pick the decoder for a record.
    pub fn kind_of(&self, name: &str) -> Option<TopicKind> {
        let base = name.strip_prefix(self.prefix.as_str())?;
        TopicKind::ALL
            .into_iter()
            .find(|kind| kind.base_name() == base)
    }

    /// [`CO_PARTITIONED_GROUPS`] as full names.
    pub fn co_partitioned_groups(&self) -> Vec<Vec<String>> {
        CO_PARTITIONED_GROUPS
            .iter()
            .map(|group| group.iter().map(|kind| self.name(*kind)).collect())
            .collect()
    }

    /// Every topic and its dead-letter topic, as they should be created.
    ///
    /// Every topic gets the same partition count: required within a
    /// co-partitioned group, and harmless elsewhere.
    pub fn specs(&self, layout: &TopicLayout) -> Vec<TopicSpec> {
        let topics = TopicKind::ALL
            .into_iter()
            .map(|kind| layout.spec(self.name(kind), kind.cleanup(layout)));
        let dead_letters = TopicKind::ALL.into_iter().map(|kind| {
            layout.spec(
                self.dlq(kind),
                Cleanup::Delete(Some(layout.dlq_retention_ms)),
            )
        });
        topics.chain(dead_letters).collect()
    }
}

/// A topic to create. Field types match what Kafka admin APIs take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: i32,
    pub replication_factor: i16,
    /// Topic-level configs, e.g. `cleanup.policy`.
    pub configs: BTreeMap<String, String>,
}

/// Cluster-dependent choices for creating topics. Deserializable, so it can
/// sit in a service's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TopicLayout {
    /// Partitions of every topic.
    pub partitions: i32,
    /// Replicas of every topic; 3 in production, 1 on a single dev broker.
    pub replication_factor: i16,
    /// `min.insync.replicas` for every topic (with `acks=all`, the replicas a
    /// write needs); `None` leaves the broker default. Production: RF − 1.
    pub min_insync_replicas: Option<u16>,
    /// How long commands are kept. Only needed until processed; the retention
    /// covers a processor being down over a long weekend.
    pub command_retention_ms: u64,
    /// How long command results are kept: long enough for a client that got a
    /// 202 to come back for the outcome.
    pub command_results_retention_ms: u64,
    /// How long dead letters are kept: long enough for an operator to notice,
    /// fix and replay.
    pub dlq_retention_ms: u64,
    /// `min.compaction.lag.ms` of the state topics: recent snapshots stay
    /// uncompacted for a while, so an operator can see an account's recent
    /// state changes, not only the latest.
    pub state_min_compaction_lag_ms: u64,
    /// `segment.ms` of the state topics. Compaction never touches the active
    /// segment, so with Kafka's default (7 days) a restore would replay up to
    /// a week of superseded snapshots.
    pub state_segment_ms: u64,
}

const HOUR_MS: u64 = 60 * 60 * 1000;
const DAY_MS: u64 = 24 * HOUR_MS;

impl Default for TopicLayout {
    /// Sized for a single development broker (replication factor 1);
    /// production overrides `replication_factor` and `min_insync_replicas`.
    fn default() -> Self {
        Self {
            partitions: 6,
            replication_factor: 1,
            min_insync_replicas: None,
            command_retention_ms: 7 * DAY_MS,
            command_results_retention_ms: 6 * HOUR_MS,
            dlq_retention_ms: 14 * DAY_MS,
            state_min_compaction_lag_ms: HOUR_MS,
            state_segment_ms: 6 * HOUR_MS,
        }
    }
}

/// A [`TopicLayout`] that Kafka would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid topic layout: `{field}` {problem}")]
pub struct TopicLayoutError {
    pub field: &'static str,
    pub problem: &'static str,
}

impl TopicLayout {
    /// Checks the layout is one Kafka would accept.
    pub fn validate(&self) -> Result<(), TopicLayoutError> {
        let fail = |field, problem| Err(TopicLayoutError { field, problem });
        if self.partitions < 1 {
            return fail("partitions", "must be at least 1");
        }
        if self.replication_factor < 1 {
            return fail("replication_factor", "must be at least 1");
        }
        if let Some(min_isr) = self.min_insync_replicas {
            if min_isr < 1 {
                return fail("min_insync_replicas", "must be at least 1");
            }
            if i32::from(min_isr) > i32::from(self.replication_factor) {
                return fail("min_insync_replicas", "cannot exceed replication_factor");
            }
        }
        for (field, value) in [
            ("command_retention_ms", self.command_retention_ms),
            (
                "command_results_retention_ms",
                self.command_results_retention_ms,
            ),
            ("dlq_retention_ms", self.dlq_retention_ms),
            ("state_segment_ms", self.state_segment_ms),
        ] {
            if value == 0 {
                return fail(field, "must be positive");
            }
        }
        for (field, value) in [
            ("command_retention_ms", self.command_retention_ms),
            (
                "command_results_retention_ms",
                self.command_results_retention_ms,
            ),
            ("dlq_retention_ms", self.dlq_retention_ms),
            (
                "state_min_compaction_lag_ms",
                self.state_min_compaction_lag_ms,
            ),
            ("state_segment_ms", self.state_segment_ms),
        ] {
            if i64::try_from(value).is_err() {
                return fail(field, "must fit in a signed 64-bit integer");
            }
        }
        Ok(())
    }

    fn spec(&self, name: String, cleanup: Cleanup) -> TopicSpec {
        let mut configs = BTreeMap::new();
        let mut set = |key: &str, value: String| configs.insert(key.to_owned(), value);
        match cleanup {
            Cleanup::Delete(retention_ms) => {
                set("cleanup.policy", "delete".to_owned());
                match retention_ms {
                    Some(ms) => set("retention.ms", ms.to_string()),
                    None => {
                        // Both limits, or a broker-wide `log.retention.bytes`
                        // could still expire the event store.
                        set("retention.ms", "-1".to_owned());
                        set("retention.bytes", "-1".to_owned())
                    }
                };
            }
            Cleanup::Compact => {
                set("cleanup.policy", "compact".to_owned());
                set(
                    "min.compaction.lag.ms",
                    self.state_min_compaction_lag_ms.to_string(),
                );
                set("segment.ms", self.state_segment_ms.to_string());
            }
        }
        if let Some(min_isr) = self.min_insync_replicas {
            set("min.insync.replicas", min_isr.to_string());
        }
        TopicSpec {
            name,
            partitions: self.partitions,
            replication_factor: self.replication_factor,
            configs,
        }
    }
}
