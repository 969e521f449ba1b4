//! What balance-projector does on Kafka (see
//! `eventbank_runtime::kafka::access`): it reads account and transfer events
//! in its group (a rebuild's generation in a group of its own, named after
//! it: hence the prefix) and dead-letters what it cannot read. It writes no
//! topic of the bank's.

use eventbank_events::TopicKind;
use eventbank_runtime::kafka::access::{KafkaAccess, Named};

use crate::Settings;

pub fn kafka_access(settings: &Settings) -> KafkaAccess {
    let events = [TopicKind::AccountEvents, TopicKind::TransferEvents];
    KafkaAccess {
        reads: events.into(),
        writes: Default::default(),
        dead_letters: events.into(),
        groups: vec![Named::prefix(format!(
            "{}{}",
            settings.kafka.topic_prefix, settings.projector.consumer_group
        ))],
        transactional_ids: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_events_and_writes_only_dead_letters() {
        let settings = Settings::default();
        let access = kafka_access(&settings);
        let topics = settings.kafka.topics();
        for kind in TopicKind::ALL {
            assert!(
                !access.may_write(&settings.kafka, &topics.name(kind)),
                "{kind:?}"
            );
        }
        assert!(access.may_write(&settings.kafka, "account-events.dlq"));
    }
}
