//! Writing commands straight to `account-commands`, past the API: a backlog
//! for a benchmark, or a retry the API's result cache would have answered.

use std::time::Duration;

use eventbank_events::{CommandEnvelope, TopicKind, wire};
use eventbank_runtime::kafka::KafkaSettings;
use futures::StreamExt;
use rdkafka::producer::{FutureRecord, Producer};

/// Produces every envelope (keyed by its account, as the API does), 256 in
/// flight at a time, and waits until all are acknowledged.
pub async fn produce_commands(kafka: &KafkaSettings, envelopes: &[CommandEnvelope]) {
    let producer = kafka.producer().expect("producer");
    let topic = kafka.topics().name(TopicKind::AccountCommands);
    futures::stream::iter(envelopes)
        .for_each_concurrent(256, |envelope| {
            let (producer, topic) = (producer.clone(), topic.clone());
            async move {
                let key = wire::encode_key(envelope.account_id);
                let payload = wire::encode(envelope);
                producer
                    .send(
                        FutureRecord::to(&topic).key(&key).payload(&payload),
                        Duration::from_secs(30),
                    )
                    .await
                    .map_err(|(err, _)| err)
                    .expect("produce command");
            }
        })
        .await;
    producer.flush(Duration::from_secs(30)).expect("flush");
}
