//! What balance-projector does on Kafka (see
//! `eventbank_runtime::kafka::access`): it reads account and transfer events
//! in its group (a rebuild's generation in a group of its own, named after
//! it: hence the prefix) and dead-letters what it cannot read. It writes no
//! topic of the bank's.

use eventbank_events::TopicKind;
use eventbank_runtime::kafka::access::{KafkaAccess, Named};

use crate::Settings;

pub fn kafka_access(settings: &Settings) -> KafkaAccess {
    let group = format!(
        "{}{}",
        settings.kafka.topic_prefix, settings.projector.consumer_group
    );
    KafkaAccess::sink_consumer(
        &[TopicKind::AccountEvents, TopicKind::TransferEvents],
        Named::prefix(group),
    )
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
