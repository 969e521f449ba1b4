//! Stage **ceiling**: Kafka's own ProducerPerformance and
//! ConsumerPerformance with the backlog's real event values, the raw figures
//! every other stage is compared with.

use eventbank_events::TopicKind;

use super::Bench;
use super::progress::spinner;
use crate::ceiling::KafkaTools;
use crate::kafka;
use crate::report::Ceiling;

impl Bench {
    /// The raw ceiling with the backlog's real event values.
    pub(super) async fn ceiling(&mut self) -> anyhow::Result<()> {
        let bar = spinner("ceiling: sampling account-events");
        let kafka = self.kafka(&self.prefix.clone());
        let events_topic = kafka.topics().name(TopicKind::AccountEvents);
        let scan_kafka = kafka.clone();
        let scan =
            tokio::task::spawn_blocking(move || kafka::scan(&scan_kafka, &[events_topic], 10_000))
                .await??;
        anyhow::ensure!(scan.records > 0, "the backlog left no events");
        let values: u64 = scan.sample.iter().map(|v| v.len() as u64).sum();
        let count = scan.sample.len() as u64;
        self.results.ceiling = Ceiling {
            event_record_bytes: scan.bytes / scan.records,
            event_value_bytes: values / count.max(1),
            ..Ceiling::default()
        };
        let payloads = self.config.out_dir.join("event-payloads.txt");
        let mut text = Vec::with_capacity(usize::try_from(values).unwrap_or(0) + scan.sample.len());
        for value in &scan.sample {
            anyhow::ensure!(!value.contains(&b'\n'), "an event value holds a newline");
            text.extend_from_slice(value);
            text.push(b'\n');
        }
        std::fs::write(&payloads, text)?;

        let topic = format!("{}ceiling", self.prefix);
        kafka::create_topic(&kafka, &topic, self.config.partitions).await?;
        let tools = KafkaTools::new(
            self.config.kafka_libs.clone(),
            self.config.kafka.clone(),
            &self.config.out_dir,
        )?;
        let records = self.config.ceiling_records;
        bar.set_message(format!("ceiling: ProducerPerformance, {records} records"));
        self.results.ceiling.produce = tools.produce(&topic, records, &payloads).await?;
        bar.set_message(format!("ceiling: ConsumerPerformance, {records} records"));
        self.results.ceiling.consume = tools.consume(&topic, records, &self.config.out_dir).await?;
        bar.finish_and_clear();
        println!(
            "[bench] ceiling: produce {} records/s, consume {} records/s ({} B event values)",
            self.results.ceiling.produce.records_per_sec,
            self.results.ceiling.consume.records_per_sec,
            self.results.ceiling.event_value_bytes
        );
        Ok(())
    }
}
