//! Kafka client construction from configuration and idempotent topic setup.
//!
//! Every client this system creates goes through [`KafkaSettings`], so security
//! settings and raw librdkafka overrides apply uniformly, and the exactly-once
//! defaults (idempotent producers, `read_committed` consumers, manual offsets)
//! cannot be forgotten by one service.

pub mod access;
mod batch;
mod client_properties;
mod clients;
mod connection_check;
mod dead_letter;
mod leave_group;
mod partition_reader;
mod rebalance;
mod record;
mod security;
mod settings;
pub mod sink;
pub mod time_lag;
mod topic_setup;
mod trace;
pub mod transactional;

pub use batch::{BatchLimits, is_fatal_consumer_error, next_batch, receive_while};
pub use clients::transactional_id;
pub use connection_check::ConnectionError;
pub use dead_letter::{
    DeadLetterError, DeadLetterer, dead_letter_record, dead_letter_topic, letter_for,
};
pub use leave_group::leave_group;
pub use partition_reader::{ReadError, read_partition, visit_partition};
pub use rebalance::{
    GroupContext, OnAssign, apply_rebalance, is_cooperative, is_partition_eof, log_client_error,
};
pub use record::{OutputRecord, OwnedRecord, headers_of};
pub use settings::{KafkaSettings, SaslMechanism, SecurityProtocol, TopicSettings};
pub use topic_setup::{TopicSetupError, create_system_topics, ensure_system_topics, ensure_topics};
pub use trace::{batch_span, consume_span, link_record};
