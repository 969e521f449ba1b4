//! Stage **backlog**: commands produced straight to `account-commands`, then
//! the processor alone; how fast exactly-once processing drains them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use eventbank_events::{
    AccountCommand, AccountId, Amount, CommandEnvelope, CommandId, CorrelationId, Currency, Holder,
    TopicKind, WireRecord, wire,
};
use eventbank_runtime::kafka::KafkaSettings;
use indicatif::ProgressBar;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};

use super::progress::counter;
use super::{Bench, STOP_GRACE, ms};
use crate::kafka;
use crate::load;
use crate::report::Backlog;
use crate::services::RssPeaks;

impl Bench {
    /// N commands straight onto `account-commands`, then the processor.
    pub(super) async fn backlog(&mut self) -> anyhow::Result<()> {
        let kafka = self.kafka(&self.prefix.clone());
        let topics = kafka.topics();
        let accounts: Vec<AccountId> = (0..self.config.accounts)
            .map(|_| AccountId::new())
            .collect();
        let command = |account: AccountId, command: AccountCommand| {
            let envelope = CommandEnvelope::new(
                CommandId::new(),
                account,
                CorrelationId::new(),
                Utc::now(),
                command,
            );
            (wire::encode_key(envelope.key()), wire::encode(&envelope))
        };
        let holder = Holder::parse("Bench").expect("a valid holder");
        let opens: Vec<_> = accounts
            .iter()
            .map(|a| {
                command(
                    *a,
                    AccountCommand::OpenAccount {
                        holder: holder.clone(),
                        currency: Currency::EUR,
                    },
                )
            })
            .collect();
        // Every account gets a large first deposit (so withdrawals and
        // transfers later are accepted), then small deposits and withdrawals
        // (one in four) round robin.
        let mut rest: Vec<_> = accounts
            .iter()
            .map(|a| {
                command(
                    *a,
                    AccountCommand::Deposit {
                        amount: Amount::new(1_000_000_000).expect("a valid amount"),
                    },
                )
            })
            .collect();
        let total = self.config.backlog_commands.max(2 * accounts.len() as u64);
        for n in 0..total - 2 * accounts.len() as u64 {
            let account = accounts[usize::try_from(n).unwrap_or(0) % accounts.len()];
            let change = if n % 4 == 3 {
                AccountCommand::Withdraw {
                    amount: Amount::new(50).expect("a valid amount"),
                }
            } else {
                AccountCommand::Deposit {
                    amount: Amount::new(100).expect("a valid amount"),
                }
            };
            rest.push(command(account, change));
        }
        let bar = counter("backlog: producing commands", total);
        let producer = kafka::producer(&kafka)?;
        let commands_topic = topics.name(TopicKind::AccountCommands);
        // Opens first, acknowledged before any deposit is sent.
        kafka::produce(&producer, &commands_topic, &opens, 5_000, Some(&bar)).await?;
        kafka::produce(&producer, &commands_topic, &rest, 5_000, Some(&bar)).await?;
        bar.finish_and_clear();

        let results_topic = topics.name(TopicKind::CommandResults);
        let reader = results_reader(&kafka, &results_topic)?;
        let bar = counter("backlog: exactly-once processing", total);
        let watch_bar = bar.clone();
        let counting = tokio::task::spawn_blocking(move || count_until(&reader, total, &watch_bar));
        let started = Instant::now();
        let processor = self
            .start(
                "account-command",
                &self.prefix.clone(),
                &[("EVENTBANK_API__ENABLED", "false".to_owned())],
                "account-command-backlog",
            )
            .await?;
        let peaks = RssPeaks::start(vec![("account-command".into(), processor.pid())]);
        let (first, last) = counting.await??;
        let peaks = peaks.stop();
        processor.stop(STOP_GRACE).await?;
        bar.finish_and_clear();
        self.note_load_rss(&peaks, "backlog");
        let steady = last.saturating_duration_since(first);
        let whole = last.saturating_duration_since(started);
        self.results.backlog = Backlog {
            commands: total,
            steady_ms: ms(steady),
            // Results after the first: the first marks the start.
            per_sec: load::per_second(total.saturating_sub(1), steady),
            total_ms: ms(whole),
            per_sec_incl_start: load::per_second(total, whole),
        };
        self.accounts = Arc::new(accounts.iter().map(ToString::to_string).collect());
        println!(
            "[bench] backlog: {total} commands, {} commands/s (first → last result), {} incl. start",
            self.results.backlog.per_sec, self.results.backlog.per_sec_incl_start
        );
        Ok(())
    }
}

/// A consumer of every partition of `topic` from offset zero.
fn results_reader(kafka: &KafkaSettings, topic: &str) -> anyhow::Result<BaseConsumer> {
    let consumer: BaseConsumer = kafka
        .consumer_config(&format!("{}bench-results", kafka.topic_prefix))
        .create()?;
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let mut assignment = TopicPartitionList::new();
    for t in metadata.topics() {
        for p in t.partitions() {
            assignment.add_partition_offset(topic, p.id(), Offset::Beginning)?;
        }
    }
    consumer.assign(&assignment)?;
    Ok(consumer)
}

/// Reads until `total` records arrived; when the first and the last came.
fn count_until(
    consumer: &BaseConsumer,
    total: u64,
    bar: &ProgressBar,
) -> anyhow::Result<(Instant, Instant)> {
    let mut seen = 0u64;
    let mut first = None;
    let mut last_seen = Instant::now();
    loop {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(_)) => {
                let now = Instant::now();
                first.get_or_insert(now);
                last_seen = now;
                seen += 1;
                if seen.is_multiple_of(256) {
                    bar.set_position(seen);
                }
                if seen >= total {
                    return Ok((first.unwrap_or(now), now));
                }
            }
            Some(Err(err)) => return Err(err.into()),
            None => anyhow::ensure!(
                last_seen.elapsed() < Duration::from_secs(180),
                "{seen} of {total} results, then none for 3 minutes"
            ),
        }
    }
}
