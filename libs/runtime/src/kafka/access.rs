//! What one service may do on Kafka, declared by the service beside the code
//! that does it ([`crate::service::Service::kafka_access`]) and turned into
//! the least-privilege ACLs its principal needs: no second list to keep in
//! step with the code. `<service> kafka-acls [PRINCIPAL]` prints them as
//! `kafka-acls.sh` commands.
//!
//! The grants, per kind of use:
//!
//! | use | resource | operations |
//! |---|---|---|
//! | consumes or restores a topic | topic | Read, Describe |
//! | produces to a topic (its dead-letter topics included) | topic | Write, Describe |
//! | joins or commits a consumer group (a transactional producer commits its group's offsets too) | group | Read, Describe |
//! | runs transactions | transactional id (prefix) | Write, Describe |
//!
//! Idempotent producers need nothing more since Kafka 3.0 (Write on a topic
//! implies it). Creating topics is not among them: services run with
//! `kafka.topics.create=false` where ACLs are on, and the topic set-up job
//! (`ensure-topics`) runs as a principal with Create.

use std::collections::BTreeSet;
use std::fmt;

use eventbank_events::TopicKind;

use super::{KafkaSettings, dead_letter_topic};

/// A consumer group or transactional id: one name, or every name starting
/// with it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Named {
    pub name: String,
    pub prefixed: bool,
}

impl Named {
    pub fn literal(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            prefixed: false,
        }
    }

    pub fn prefix(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            prefixed: true,
        }
    }
}

/// What a service does on Kafka (topic names without the prefix: the
/// settings add it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KafkaAccess {
    /// Topics it consumes, or reads to restore its state.
    pub reads: BTreeSet<TopicKind>,
    /// Topics it produces to.
    pub writes: BTreeSet<TopicKind>,
    /// Topics whose undecodable records it dead-letters (`<topic>.dlq`).
    pub dead_letters: BTreeSet<TopicKind>,
    /// Consumer groups it joins or commits offsets for (full names).
    pub groups: Vec<Named>,
    /// Transactional ids its producers use (full names or prefixes).
    pub transactional_ids: Vec<Named>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Resource {
    Topic,
    Group,
    TransactionalId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    Read,
    Write,
    Describe,
}

/// One grant: `operation` on `resource` `name` (or every name it prefixes).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Acl {
    pub resource: Resource,
    pub name: String,
    pub prefixed: bool,
    pub operation: Operation,
}

impl KafkaAccess {
    /// A consumer that writes nothing of the bank's: it reads `sources` in
    /// `group` and dead-letters what it cannot read (the projector, the
    /// audit log).
    pub fn sink_consumer(sources: &[TopicKind], group: Named) -> Self {
        Self {
            reads: sources.iter().copied().collect(),
            dead_letters: sources.iter().copied().collect(),
            groups: vec![group],
            ..Self::default()
        }
    }

    /// The grants, sorted and without repeats, with `kafka`'s topic names.
    pub fn acls(&self, kafka: &KafkaSettings) -> Vec<Acl> {
        let topics = kafka.topics();
        let mut acls = BTreeSet::new();
        let mut grant = |resource, named: &Named, operations: &[Operation]| {
            for &operation in operations {
                acls.insert(Acl {
                    resource,
                    name: named.name.clone(),
                    prefixed: named.prefixed,
                    operation,
                });
            }
        };
        use Operation::{Describe, Read, Write};
        for &kind in &self.reads {
            grant(
                Resource::Topic,
                &Named::literal(topics.name(kind)),
                &[Read, Describe],
            );
        }
        for &kind in &self.writes {
            grant(
                Resource::Topic,
                &Named::literal(topics.name(kind)),
                &[Write, Describe],
            );
        }
        for &kind in &self.dead_letters {
            let dlq = Named::literal(dead_letter_topic(&topics.name(kind)));
            grant(Resource::Topic, &dlq, &[Write, Describe]);
        }
        for group in &self.groups {
            grant(Resource::Group, group, &[Read, Describe]);
        }
        for id in &self.transactional_ids {
            grant(Resource::TransactionalId, id, &[Write, Describe]);
        }
        acls.into_iter().collect()
    }

    /// Whether these grants let the service produce to `topic` (a full name).
    pub fn may_write(&self, kafka: &KafkaSettings, topic: &str) -> bool {
        self.acls(kafka).iter().any(|acl| {
            acl.resource == Resource::Topic
                && acl.operation == Operation::Write
                && (acl.name == topic || (acl.prefixed && topic.starts_with(&acl.name)))
        })
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Read => "Read",
            Self::Write => "Write",
            Self::Describe => "Describe",
        })
    }
}

impl Acl {
    /// The `kafka-acls.sh` command adding this grant for `principal`
    /// (`User:<name>`); `$BOOTSTRAP` and `$ADMIN_CONFIG` are the operator's.
    pub fn command(&self, principal: &str) -> String {
        let resource = match self.resource {
            Resource::Topic => "--topic",
            Resource::Group => "--group",
            Resource::TransactionalId => "--transactional-id",
        };
        let pattern = if self.prefixed {
            " --resource-pattern-type prefixed"
        } else {
            ""
        };
        format!(
            "kafka-acls.sh --bootstrap-server \"$BOOTSTRAP\" --command-config \"$ADMIN_CONFIG\" \
             --add --allow-principal '{principal}' --operation {} {resource} '{}'{pattern}",
            self.operation, self.name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> KafkaSettings {
        KafkaSettings {
            topic_prefix: "p.".to_owned(),
            ..KafkaSettings::default()
        }
    }

    #[test]
    fn reads_writes_dead_letters_groups_and_transactions_become_grants() {
        let access = KafkaAccess {
            reads: [TopicKind::AccountEvents].into(),
            writes: [TopicKind::TransferEvents].into(),
            dead_letters: [TopicKind::AccountEvents].into(),
            groups: vec![Named::prefix("p.projector")],
            transactional_ids: vec![Named::prefix("p.eventbank-saga-")],
        };
        let kafka = settings();
        let acls = access.acls(&kafka);
        let has = |resource, name: &str, prefixed, operation| {
            acls.contains(&Acl {
                resource,
                name: name.to_owned(),
                prefixed,
                operation,
            })
        };
        assert!(has(
            Resource::Topic,
            "p.account-events",
            false,
            Operation::Read
        ));
        assert!(has(
            Resource::Topic,
            "p.account-events.dlq",
            false,
            Operation::Write
        ));
        assert!(has(
            Resource::Topic,
            "p.transfer-events",
            false,
            Operation::Write
        ));
        assert!(has(Resource::Group, "p.projector", true, Operation::Read));
        assert!(has(
            Resource::TransactionalId,
            "p.eventbank-saga-",
            true,
            Operation::Write
        ));
        assert!(!has(
            Resource::Topic,
            "p.account-events",
            false,
            Operation::Write
        ));
        assert_eq!(acls.len(), 10, "two operations each, no repeats: {acls:?}");
        assert!(access.may_write(&kafka, "p.transfer-events"));
        assert!(!access.may_write(&kafka, "p.account-events"));
    }

    #[test]
    fn a_grant_reads_as_the_kafka_acls_command_that_adds_it() {
        let acl = Acl {
            resource: Resource::TransactionalId,
            name: "eventbank-account-processor-".to_owned(),
            prefixed: true,
            operation: Operation::Write,
        };
        assert_eq!(
            acl.command("User:account-command"),
            "kafka-acls.sh --bootstrap-server \"$BOOTSTRAP\" --command-config \"$ADMIN_CONFIG\" \
             --add --allow-principal 'User:account-command' --operation Write \
             --transactional-id 'eventbank-account-processor-' --resource-pattern-type prefixed"
        );
    }
}
