//! Topic names, specs and the co-partitioning contract.

use std::collections::BTreeSet;

use eventbank_events::topics::{CO_PARTITIONED_GROUPS, DLQ_SUFFIX};
use eventbank_events::wire::WireRecord;
use eventbank_events::{
    AccountEventEnvelope, AccountSnapshot, CommandEnvelope, CommandResult, TopicKey, TopicKind,
    TopicLayout, TopicNameError, TopicSpec, Topics, TransferEventEnvelope, TransferSagaSnapshot,
};

fn spec<'a>(specs: &'a [TopicSpec], name: &str) -> &'a TopicSpec {
    specs
        .iter()
        .find(|spec| spec.name == name)
        .unwrap_or_else(|| panic!("no spec for {name}"))
}

/// `kind`'s spec in the default layout under the default names.
fn default_spec(kind: TopicKind) -> TopicSpec {
    let topics = Topics::default();
    spec(&topics.specs(&TopicLayout::default()), &topics.name(kind)).clone()
}

fn config<'a>(spec: &'a TopicSpec, key: &str) -> Option<&'a str> {
    spec.configs.get(key).map(String::as_str)
}

#[test]
fn names_carry_the_prefix_verbatim() {
    let topics = Topics::new("it-42.");
    assert_eq!(
        topics.name(TopicKind::AccountEvents),
        "it-42.account-events"
    );
    assert_eq!(
        topics.dlq(TopicKind::AccountEvents),
        "it-42.account-events.dlq"
    );
    assert_eq!(
        Topics::default().name(TopicKind::CommandResults),
        "command-results"
    );
    assert_eq!(
        Topics::default().dlq(TopicKind::TransferState),
        "transfer-state.dlq"
    );
}

#[test]
fn every_topic_and_its_dlq_has_exactly_one_spec() {
    let topics = Topics::new("t.");
    let specs = topics.specs(&TopicLayout::default());
    let names: BTreeSet<&str> = specs.iter().map(|spec| spec.name.as_str()).collect();
    assert_eq!(names.len(), specs.len(), "no duplicates");
    let expected: BTreeSet<String> = TopicKind::ALL
        .into_iter()
        .flat_map(|kind| [topics.name(kind), topics.dlq(kind)])
        .collect();
    assert_eq!(names, expected.iter().map(String::as_str).collect());
    assert!(specs.iter().all(|spec| spec.name.starts_with("t.")));
}

#[test]
fn co_partitioned_topics_share_key_and_partition_count() {
    let layout = TopicLayout {
        partitions: 12,
        ..TopicLayout::default()
    };
    let topics = Topics::new("");
    let specs = topics.specs(&layout);
    assert_eq!(CO_PARTITIONED_GROUPS.len(), 2);
    for group in CO_PARTITIONED_GROUPS {
        let keys: BTreeSet<_> = group
            .iter()
            .map(|kind| format!("{:?}", kind.routing_key()))
            .collect();
        assert_eq!(keys.len(), 1, "one routing key per group: {keys:?}");
        for kind in *group {
            assert_eq!(spec(&specs, &topics.name(*kind)).partitions, 12);
        }
    }
    assert_eq!(
        topics.co_partitioned_groups(),
        vec![
            vec![
                "account-commands",
                "account-events",
                "account-state",
                "command-memory"
            ],
            vec!["transfer-saga-inbox", "transfer-state"],
        ]
    );
    assert_eq!(TopicKind::AccountCommands.key(), TopicKey::AccountId);
    assert_eq!(TopicKind::CommandMemory.key(), TopicKey::CommandId);
}

#[test]
fn state_topics_are_compacted() {
    for kind in [TopicKind::AccountState, TopicKind::TransferState] {
        let spec = &default_spec(kind);
        assert_eq!(
            config(spec, "cleanup.policy"),
            Some("compact"),
            "{}",
            spec.name
        );
        assert_eq!(config(spec, "min.compaction.lag.ms"), Some("3600000"));
        assert!(config(spec, "segment.ms").is_some());
        assert_eq!(config(spec, "retention.ms"), None);
    }
}

#[test]
fn event_topics_are_kept_forever() {
    for kind in [TopicKind::AccountEvents, TopicKind::TransferEvents] {
        let spec = &default_spec(kind);
        assert_eq!(config(spec, "cleanup.policy"), Some("delete"));
        assert_eq!(config(spec, "retention.ms"), Some("-1"));
        assert_eq!(config(spec, "retention.bytes"), Some("-1"));
    }
}

#[test]
fn transient_topics_expire() {
    let topics = Topics::default();
    let specs = topics.specs(&TopicLayout::default());
    let retention = |name: String| config(spec(&specs, &name), "retention.ms").map(str::to_owned);
    assert_eq!(
        retention(topics.name(TopicKind::AccountCommands)).as_deref(),
        Some("604800000")
    );
    assert_eq!(
        retention(topics.name(TopicKind::CommandResults)).as_deref(),
        Some("21600000")
    );
    for kind in TopicKind::ALL {
        let dlq = spec(&specs, &topics.dlq(kind));
        assert_eq!(config(dlq, "cleanup.policy"), Some("delete"));
        assert_eq!(config(dlq, "retention.ms"), Some("1209600000"));
    }
}

#[test]
fn layout_is_applied_to_every_spec() {
    let layout = TopicLayout {
        partitions: 24,
        replication_factor: 3,
        min_insync_replicas: Some(2),
        ..TopicLayout::default()
    };
    layout.validate().expect("valid");
    for spec in Topics::default().specs(&layout) {
        assert_eq!(spec.partitions, 24);
        assert_eq!(spec.replication_factor, 3);
        assert_eq!(
            config(&spec, "min.insync.replicas"),
            Some("2"),
            "{}",
            spec.name
        );
    }
    let without_min_isr = Topics::default().specs(&TopicLayout::default());
    assert!(
        without_min_isr
            .iter()
            .all(|spec| config(spec, "min.insync.replicas").is_none())
    );
}

#[test]
fn layout_validation() {
    TopicLayout::default()
        .validate()
        .expect("defaults are valid");
    let invalid = [
        TopicLayout {
            partitions: 0,
            ..TopicLayout::default()
        },
        TopicLayout {
            replication_factor: 0,
            ..TopicLayout::default()
        },
        TopicLayout {
            min_insync_replicas: Some(2),
            ..TopicLayout::default()
        },
        TopicLayout {
            min_insync_replicas: Some(0),
            ..TopicLayout::default()
        },
        TopicLayout {
            dlq_retention_ms: 0,
            ..TopicLayout::default()
        },
        TopicLayout {
            command_retention_ms: u64::MAX,
            ..TopicLayout::default()
        },
    ];
    for layout in invalid {
        assert!(layout.validate().is_err(), "{layout:?}");
    }
    let err = TopicLayout {
        min_insync_replicas: Some(2),
        ..TopicLayout::default()
    }
    .validate()
    .unwrap_err();
    assert!(err.to_string().contains("min_insync_replicas"), "{err}");
}

#[test]
fn layout_reads_from_partial_config() {
    let layout: TopicLayout =
        serde_json::from_str(r#"{"partitions": 3, "replication_factor": 3}"#).expect("valid");
    assert_eq!(layout.partitions, 3);
    assert_eq!(
        layout.dlq_retention_ms,
        TopicLayout::default().dlq_retention_ms
    );
    assert!(
        serde_json::from_str::<TopicLayout>(r#"{"partitons": 3}"#).is_err(),
        "typos refused"
    );
}

#[test]
fn prefix_validation() {
    Topics::new("").validate().expect("empty prefix");
    Topics::new("it-42_x.")
        .validate()
        .expect("legal characters");
    assert!(matches!(
        Topics::new("bad prefix/").validate(),
        Err(TopicNameError::InvalidCharacter(_))
    ));
    let longest = TopicKind::ALL
        .iter()
        .map(|kind| kind.base_name().len())
        .max()
        .unwrap_or(0);
    let fits = "p".repeat(249 - longest - DLQ_SUFFIX.len());
    Topics::new(fits.clone())
        .validate()
        .expect("exactly 249 characters");
    assert!(matches!(
        Topics::new(format!("{fits}p")).validate(),
        Err(TopicNameError::TooLong { .. })
    ));
}

#[test]
fn topic_names_map_back_to_kinds() {
    let topics = Topics::new("x.");
    for kind in TopicKind::ALL {
        assert_eq!(topics.kind_of(&topics.name(kind)), Some(kind));
        assert_eq!(topics.kind_of(&topics.dlq(kind)), None);
        assert_eq!(Topics::default().kind_of(&topics.name(kind)), None);
    }
}

#[test]
fn each_topic_names_the_record_it_carries() {
    let pairs = [
        (TopicKind::AccountCommands, CommandEnvelope::KIND),
        (TopicKind::AccountEvents, AccountEventEnvelope::KIND),
        (TopicKind::AccountState, AccountSnapshot::KIND),
        (TopicKind::CommandResults, CommandResult::KIND),
        (TopicKind::TransferEvents, TransferEventEnvelope::KIND),
        (TopicKind::TransferState, TransferSagaSnapshot::KIND),
    ];
    for (kind, record) in pairs {
        assert_eq!(kind.record_kind(), record, "{kind}");
    }
}
