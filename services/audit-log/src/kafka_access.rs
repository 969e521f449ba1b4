//! What audit-log does on Kafka (see `eventbank_runtime::kafka::access`): it
//! reads every event and command result in its group (offsets live in
//! PostgreSQL, but the group still assigns the partitions) and dead-letters
//! what it cannot read. It writes no topic of the bank's.

use eventbank_events::TopicKind;
use eventbank_runtime::kafka::access::{KafkaAccess, Named};

use crate::Settings;

pub fn kafka_access(settings: &Settings) -> KafkaAccess {
    let sources = [
        TopicKind::AccountEvents,
        TopicKind::TransferEvents,
        TopicKind::CommandResults,
    ];
    let group = format!(
        "{}{}",
        settings.kafka.topic_prefix, settings.audit.consumer_group
    );
    KafkaAccess::sink_consumer(&sources, Named::literal(group))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_sources_and_writes_only_dead_letters() {
        let settings = Settings::default();
        let access = kafka_access(&settings);
        let topics = settings.kafka.topics();
        for kind in TopicKind::ALL {
            assert!(
                !access.may_write(&settings.kafka, &topics.name(kind)),
                "{kind:?}"
            );
        }
    }
}
