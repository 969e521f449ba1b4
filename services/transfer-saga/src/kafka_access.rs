//! What transfer-saga does on Kafka (see `eventbank_runtime::kafka::access`):
//! the router consumes account events and command results in its group and
//! writes the inbox; the saga consumes the inbox in its group and, in its
//! transactions, writes saga state, transfer events and the commands of
//! each leg, restoring state on assignment. Both dead-letter what they
//! cannot read. It never appends account events.

use eventbank_events::TopicKind;
use eventbank_runtime::kafka::access::{KafkaAccess, Named};
use eventbank_runtime::kafka::transactional_id;

use crate::{ROUTER, SAGA, Settings};

pub fn kafka_access(settings: &Settings) -> KafkaAccess {
    let kafka = &settings.kafka;
    let group = |name: &str| Named::literal(format!("{}{name}", kafka.topic_prefix));
    KafkaAccess {
        reads: [
            TopicKind::AccountEvents,
            TopicKind::CommandResults,
            TopicKind::TransferSagaInbox,
            TopicKind::TransferState,
        ]
        .into(),
        writes: [
            TopicKind::AccountCommands,
            TopicKind::TransferEvents,
            TopicKind::TransferSagaInbox,
            TopicKind::TransferState,
        ]
        .into(),
        dead_letters: [
            TopicKind::AccountEvents,
            TopicKind::CommandResults,
            TopicKind::TransferSagaInbox,
        ]
        .into(),
        groups: vec![
            group(&settings.saga.router_consumer_group),
            group(&settings.saga.consumer_group),
        ],
        transactional_ids: [ROUTER, SAGA]
            .map(|role| Named::prefix(transactional_id(kafka, role, "")))
            .to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_transfer_events_but_never_account_events() {
        let settings = Settings::default();
        let access = kafka_access(&settings);
        let topics = settings.kafka.topics();
        assert!(access.may_write(&settings.kafka, &topics.name(TopicKind::AccountCommands)));
        assert!(access.may_write(&settings.kafka, &topics.name(TopicKind::TransferEvents)));
        for kind in [TopicKind::AccountEvents, TopicKind::AccountState] {
            assert!(
                !access.may_write(&settings.kafka, &topics.name(kind)),
                "{kind:?}"
            );
        }
    }
}
