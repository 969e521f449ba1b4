//! What account-command does on Kafka (see `eventbank_runtime::kafka::access`):
//! the API puts commands on `account-commands` and reads `command-results`
//! by assignment (never joining its group); the processor consumes the
//! commands in its group and, in its transactions, appends events, state,
//! command memory and results, restoring state and memory on assignment.

use eventbank_events::TopicKind;
use eventbank_runtime::kafka::access::{KafkaAccess, Named};
use eventbank_runtime::kafka::transactional_id;

use crate::Settings;

pub fn kafka_access(settings: &Settings) -> KafkaAccess {
    let kafka = &settings.kafka;
    KafkaAccess {
        reads: [
            TopicKind::AccountCommands,
            TopicKind::AccountState,
            TopicKind::CommandMemory,
            TopicKind::CommandResults,
        ]
        .into(),
        writes: [
            TopicKind::AccountCommands,
            TopicKind::AccountEvents,
            TopicKind::AccountState,
            TopicKind::CommandMemory,
            TopicKind::CommandResults,
        ]
        .into(),
        dead_letters: [TopicKind::AccountCommands].into(),
        groups: vec![Named::literal(format!(
            "{}{}",
            kafka.topic_prefix, settings.processor.consumer_group
        ))],
        // Every instance's ids (`…-<instance>`) and its producer ring's.
        transactional_ids: vec![Named::prefix(transactional_id(
            kafka,
            "account-processor",
            "",
        ))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_single_writer_of_the_event_store_and_nothing_of_the_saga() {
        let settings = Settings::default();
        let access = kafka_access(&settings);
        let topics = settings.kafka.topics();
        assert!(access.may_write(&settings.kafka, &topics.name(TopicKind::AccountEvents)));
        for kind in [TopicKind::TransferEvents, TopicKind::TransferState] {
            assert!(
                !access.may_write(&settings.kafka, &topics.name(kind)),
                "{kind:?}"
            );
        }
    }
}
