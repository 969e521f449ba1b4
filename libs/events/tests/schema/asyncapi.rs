//! The AsyncAPI document: the checked-in copy is what the code generates,
//! and what it says agrees with the topic layout (every topic a channel,
//! every channel written and read by someone, the records the topics are
//! declared to carry).

use std::collections::BTreeSet;
use std::path::Path;

use eventbank_events::TopicKind;
use eventbank_events::asyncapi::{self, Channel};
use serde_json::Value;

fn checked_in_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(asyncapi::DOCUMENT_PATH)
}

#[test]
fn the_checked_in_document_is_the_generated_one() {
    let generated = asyncapi::render(&asyncapi::document());
    let path = checked_in_path();
    let checked_in = std::fs::read_to_string(&path).unwrap_or_else(|err| {
        panic!(
            "{}: {err}; generate it with `{}`",
            asyncapi::DOCUMENT_PATH,
            asyncapi::REGENERATE
        )
    });
    if checked_in != generated {
        let line = checked_in
            .lines()
            .zip(generated.lines())
            .position(|(old, new)| old != new)
            // Equal up to the shorter one: the difference is in the length.
            .unwrap_or_else(|| checked_in.lines().count().min(generated.lines().count()));
        panic!(
            "{} is out of date with the code (first difference at line {}); regenerate it with `{}` and commit it",
            asyncapi::DOCUMENT_PATH,
            line + 1,
            asyncapi::REGENERATE
        );
    }
}

#[test]
fn the_document_is_asyncapi_3_and_renders_stably() {
    let document = asyncapi::document();
    assert_eq!(document["asyncapi"], "3.0.0");
    assert_eq!(
        asyncapi::render(&document),
        asyncapi::render(&asyncapi::document()),
        "generation is deterministic"
    );
}

#[test]
fn every_topic_is_a_channel_with_its_address_and_cleanup() {
    let document = asyncapi::document();
    let layout = eventbank_events::TopicLayout::default();
    let specs = eventbank_events::Topics::default().specs(&layout);
    for kind in TopicKind::ALL {
        let channel = &document["channels"][Channel::Topic(kind).id()];
        assert_eq!(
            channel["address"],
            format!("{{prefix}}{}", kind.base_name()),
            "{kind}"
        );
        let spec = specs
            .iter()
            .find(|spec| spec.name == kind.base_name())
            .expect("a spec per topic");
        let kafka = &channel["bindings"]["kafka"];
        assert_eq!(kafka["partitions"], spec.partitions, "{kind}");
        assert_eq!(
            kafka["topicConfiguration"]["cleanup.policy"][0],
            spec.configs["cleanup.policy"].as_str(),
            "{kind}"
        );
    }
    let retention = |kind: TopicKind| {
        document["channels"][Channel::Topic(kind).id()]["bindings"]["kafka"]["topicConfiguration"]
            ["retention.ms"]
            .clone()
    };
    assert_eq!(retention(TopicKind::AccountEvents), -1, "kept forever");
    assert_eq!(
        retention(TopicKind::CommandResults),
        layout.command_results_retention_ms
    );
    let dead_letters = &document["channels"][Channel::DeadLetters.id()];
    assert_eq!(dead_letters["address"], "{prefix}{topic}.dlq");
    assert_eq!(
        dead_letters["parameters"]["topic"]["enum"]
            .as_array()
            .map(Vec::len),
        Some(TopicKind::ALL.len())
    );
}

/// The `name`s (record kinds) of the messages a channel carries.
fn message_names(document: &Value, channel: Channel) -> BTreeSet<String> {
    document["channels"][channel.id()]["messages"]
        .as_object()
        .expect("a channel has messages")
        .values()
        .map(|reference| {
            let pointer = reference["$ref"]
                .as_str()
                .expect("messages are references")
                .trim_start_matches('#');
            let message = document.pointer(pointer).expect("the reference resolves");
            message["name"].as_str().expect("a name").to_owned()
        })
        .collect()
}

#[test]
fn channels_carry_the_records_their_topics_are_declared_with() {
    let document = asyncapi::document();
    for kind in TopicKind::ALL {
        let names = message_names(&document, Channel::Topic(kind));
        assert!(
            names.contains(kind.record_kind()),
            "{kind} carries {}, the document says {names:?}",
            kind.record_kind()
        );
    }
    // The inbox also carries copies of command results (named in a header).
    assert!(
        message_names(&document, Channel::Topic(TopicKind::TransferSagaInbox))
            .contains("command-result")
    );
}

#[test]
fn every_channel_is_sent_and_received_and_operations_resolve() {
    let document = asyncapi::document();
    let operations = document["operations"].as_object().expect("operations");
    let mut sent = BTreeSet::new();
    let mut received = BTreeSet::new();
    for (id, operation) in operations {
        let channel = operation["channel"]["$ref"].as_str().expect("a channel");
        assert!(
            document.pointer(channel.trim_start_matches('#')).is_some(),
            "{id}: {channel}"
        );
        for message in operation["messages"].as_array().expect("messages") {
            let pointer = message["$ref"].as_str().expect("a reference");
            assert!(
                pointer.starts_with(&format!("{channel}/messages/")),
                "{id}: {pointer} is a message of its channel"
            );
            assert!(
                document.pointer(pointer.trim_start_matches('#')).is_some(),
                "{id}: {pointer}"
            );
        }
        let tag = operation["tags"][0]["name"]
            .as_str()
            .expect("a service tag");
        assert!(
            document["info"]["tags"]
                .as_array()
                .is_some_and(|tags| tags.iter().any(|known| known["name"] == tag)),
            "{id}: unknown service {tag}"
        );
        match operation["action"].as_str() {
            Some("send") => sent.insert(channel.to_owned()),
            Some("receive") => received.insert(channel.to_owned()),
            other => panic!("{id}: action {other:?}"),
        };
    }
    for channel in Channel::ALL {
        let reference = format!("#/channels/{}", channel.id());
        assert!(sent.contains(&reference), "nobody sends on {reference}");
        // Dead letters are read by operators, not by a service.
        if channel != Channel::DeadLetters {
            assert!(received.contains(&reference), "nobody receives {reference}");
        }
    }
}

/// The examples are the fixtures: every fixture on disk is listed in
/// `asyncapi::fixtures` (so a new one shows up in the document), and every
/// record message has examples.
#[test]
fn every_fixture_is_an_example() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for entry in std::fs::read_dir(&dir).expect("fixtures") {
        let path = entry.expect("dir entry").path();
        if !path.is_dir() {
            continue;
        }
        let kind = path.file_name().and_then(|n| n.to_str()).expect("a name");
        let on_disk: BTreeSet<String> = std::fs::read_dir(&path)
            .expect("kind dir")
            .map(|file| {
                let name = file.expect("dir entry").file_name();
                let name = name.to_string_lossy();
                name.strip_suffix(".json").unwrap_or(&name).to_owned()
            })
            .collect();
        let listed: BTreeSet<String> = asyncapi::fixtures(kind)
            .iter()
            .map(|(name, _)| (*name).to_owned())
            .collect();
        assert_eq!(
            listed, on_disk,
            "asyncapi::fixtures({kind:?}) vs tests/fixtures/{kind}"
        );
    }
    let document = asyncapi::document();
    for (id, message) in document["components"]["messages"]
        .as_object()
        .expect("messages")
    {
        let is_record = message["contentType"] == "application/json";
        let examples = message["examples"].as_array().map_or(0, Vec::len);
        assert!(!is_record || examples > 0, "{id} has no examples");
    }
}
