//! `GET /topics`: the topic layout this instance creates and uses (names with
//! its prefix, partitions, replication, topic configs, co-partitioned
//! groups), from the same code that creates the topics at start. Read-only
//! and Kafka-free, so an operator's CLI can show the layout without Kafka
//! access and without drifting from what the services do.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::kafka::KafkaSettings;

/// What `GET /topics` answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TopicsReport {
    /// Every topic and dead-letter topic, in the order topic setup creates them.
    pub topics: Vec<TopicEntry>,
    /// Groups of topics that must keep one partition count.
    pub co_partitioned: Vec<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TopicEntry {
    pub name: String,
    pub partitions: i32,
    pub replication_factor: i16,
    /// Topic-level configs such as `cleanup.policy` and `retention.ms`.
    pub configs: BTreeMap<String, String>,
}

impl TopicsReport {
    /// The layout `settings` make topic setup create (configured counts; a
    /// topic created earlier with other counts is kept as it is).
    pub fn of(settings: &KafkaSettings) -> Self {
        let topics = settings.topics();
        Self {
            topics: topics
                .specs(&settings.layout())
                .into_iter()
                .map(|spec| TopicEntry {
                    name: spec.name,
                    partitions: spec.partitions,
                    replication_factor: spec.replication_factor,
                    configs: spec.configs,
                })
                .collect(),
            co_partitioned: topics.co_partitioned_groups(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_names_prefixed_topics_dead_letters_and_groups() {
        let settings = KafkaSettings {
            topic_prefix: "p.".to_owned(),
            ..KafkaSettings::default()
        };
        let report = TopicsReport::of(&settings);
        let names: Vec<&str> = report.topics.iter().map(|t| t.name.as_str()).collect();
        assert!(names.contains(&"p.account-events"), "{names:?}");
        assert!(names.contains(&"p.account-events.dlq"), "{names:?}");
        let events = &report.topics[names.iter().position(|n| *n == "p.account-events").unwrap()];
        assert_eq!(events.partitions, settings.topics.partitions);
        assert!(events.configs.contains_key("cleanup.policy"), "{events:?}");
        assert!(
            report
                .co_partitioned
                .iter()
                .any(|group| group.contains(&"p.account-commands".to_owned())),
            "{:?}",
            report.co_partitioned
        );
    }
}
