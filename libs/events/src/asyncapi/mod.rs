//! The AsyncAPI 3.0 document of eventbank's topics — the Kafka counterpart
//! of an OpenAPI document: one channel per topic (address, partitions,
//! cleanup), the messages on it (key, headers and payload schemas) and which
//! service sends or receives them.
//!
//! It is generated, never written by hand: payload schemas come from the
//! wire types' `schemars::JsonSchema` derives (the same serde attributes that
//! define the JSON), channel bindings from [`TopicKind`] and [`TopicLayout`],
//! keys from [`TopicKind::key`]. The checked-in copy at [`DOCUMENT_PATH`] is
//! compared with [`document`] by a test, so it cannot drift from the code;
//! [`REGENERATE`] rewrites it.
//!
//! [`TopicKind`]: crate::TopicKind
//! [`TopicKind::key`]: crate::TopicKind::key
//! [`TopicLayout`]: crate::TopicLayout

mod channels;
mod examples;
mod messages;
mod operations;

use serde_json::{Value, json};

use crate::topics::TopicLayout;

pub use channels::Channel;
pub use examples::fixtures;
pub use messages::Message;

/// Where the document is checked in, from the workspace root.
pub const DOCUMENT_PATH: &str = "docs/asyncapi.json";

/// The command that rewrites [`DOCUMENT_PATH`] from the code.
pub const REGENERATE: &str = "cargo run -p eventbank-events --features schema --example asyncapi";

/// The AsyncAPI specification version the document follows.
pub const ASYNCAPI_VERSION: &str = "3.0.0";

/// The `bindingVersion` of every Kafka binding in the document.
pub(crate) const KAFKA_BINDING_VERSION: &str = "0.5.0";

/// The document for the default [`TopicLayout`] (partitions, retentions),
/// the one checked in.
pub fn document() -> Value {
    document_for(&TopicLayout::default())
}

/// The document with `layout`'s partitions and retentions in the channel
/// bindings.
pub fn document_for(layout: &TopicLayout) -> Value {
    let mut generator = messages::Schemas::new();
    let messages = messages::all(&mut generator);
    json!({
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "eventbank topics",
            "version": env!("CARGO_PKG_VERSION"),
            "description": INFO,
            "license": { "name": "Apache-2.0" },
            "tags": operations::tags(),
        },
        "defaultContentType": "application/json",
        "servers": {
            "compose": {
                "host": "localhost:9094",
                "protocol": "kafka",
                "description": "The broker of docker-compose.yml, from the host (its EXTERNAL listener). In production: the cluster the services' `kafka.bootstrap_servers` names.",
            },
        },
        "channels": channels::all(layout),
        "operations": operations::all(),
        "components": {
            "messages": messages,
            "schemas": generator.into_definitions(),
        },
    })
}

/// The document as it is checked in: pretty JSON (keys sorted, so the diff
/// of a change is stable) with a final newline.
pub fn render(document: &Value) -> String {
    let mut text = serde_json::to_string_pretty(document).expect("a JSON value always serializes");
    text.push('\n');
    text
}

const INFO: &str = "\
Every change to an account is a fact appended to a Kafka topic; every view is \
derived from those facts. The four services talk to each other only through \
these topics.\n\n\
**Topic names** carry a configurable prefix (`kafka.topic_prefix`, default \
empty), the `prefix` parameter of every address.\n\n\
**Keys** are the id named by each message's Kafka binding, as canonical \
hyphenated lowercase UUID text: every producer must write exactly that, or \
records of one account land on different partitions. `account-commands`, \
`account-events`, `account-state` and `command-memory` are co-partitioned \
(same partition count; `command-memory` is keyed by command id but written to \
its account's partition), and so are `transfer-saga-inbox` and \
`transfer-state`.\n\n\
**Values** are JSON objects with a `schema_version`; the payload schemas here \
describe the current version. Unknown fields and unknown `type` tags are \
errors: a consumer dead-letters a record it does not fully understand. Deploy \
readers before writers. Amounts are integers in minor units, never floats.\n\n\
**Headers** are UTF-8 text; none is needed to decode a value. A consumer that \
cannot decode a record copies it, untouched, to `<topic>.dlq` with headers \
saying why.\n\n\
Partitions, replicas and retentions in the channel bindings are the defaults \
of the topic layout (`kafka.topics` in each service's settings); production \
raises the replication factor.";
