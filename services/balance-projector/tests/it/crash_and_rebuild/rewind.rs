//! Rewinding a stopped group's commits, to make "applied to Redis but never
//! committed" certain rather than a matter of where a kill landed.

use std::time::{Duration, Instant};

use balance_projector::Settings;
use eventbank_events::TopicKind;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};

/// Moves the group's committed offsets back to half of what they are, as
/// if the last commits of a crashed projector had never reached Kafka while
/// its Redis writes had. Returns how many offsets were rewound, once the
/// group has no live member.
pub(super) fn rewind_committed(settings: &Settings) -> i64 {
    let group =
        balance_projector::projector::consumer_group(&settings.kafka, &settings.projector, 1);
    let consumer: BaseConsumer = settings
        .kafka
        .consumer_config(&group)
        .create()
        .expect("consumer");
    let topics = settings.kafka.topics();
    let mut all = TopicPartitionList::new();
    for kind in [TopicKind::AccountEvents, TopicKind::TransferEvents] {
        for partition in 0..settings.kafka.topics.partitions {
            all.add_partition(&topics.name(kind), partition);
        }
    }
    let committed = consumer
        .committed_offsets(all, Duration::from_secs(10))
        .expect("committed offsets");
    let mut rewound = TopicPartitionList::new();
    let mut total = 0;
    for elem in committed.elements() {
        if let Offset::Offset(offset) = elem.offset() {
            total += offset - offset / 2;
            rewound
                .add_partition_offset(elem.topic(), elem.partition(), Offset::Offset(offset / 2))
                .unwrap();
        }
    }
    // The crashed member leaves the group when its consumer is dropped, or,
    // if that close never completes, when its session times out (45 s);
    // until then the broker refuses a commit from outside the group.
    let deadline = Instant::now() + Duration::from_secs(90);
    while let Err(err) = consumer.commit(&rewound, CommitMode::Sync) {
        assert!(
            Instant::now() < deadline,
            "rewind the committed offsets: {err}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    total
}
