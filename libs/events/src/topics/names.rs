//! Full topic names under a prefix, and the check that a prefix makes legal
//! Kafka names (DLQs included) before anything tries to create them.

use super::cleanup::Cleanup;
use super::{CO_PARTITIONED_GROUPS, DLQ_SUFFIX, TopicKind, TopicLayout, TopicSpec};

/// Kafka's limit on topic name length.
const MAX_TOPIC_NAME_LEN: usize = 249;

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
