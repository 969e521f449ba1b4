//! Stage **audit**: audit-log alone on the backlog's topics, timed until it
//! has taken every record.

use std::time::{Duration, Instant};

use eventbank_events::TopicKind;

use super::progress::{counter, spinner};
use super::{Bench, STOP_GRACE, ms};
use crate::bank::metric_sum;
use crate::kafka;
use crate::load;
use crate::report::Audit;
use crate::services::{CpuSnapshot, RssPeaks};

impl Bench {
    /// audit-log alone on the backlog's records.
    pub(super) async fn audit(&mut self) -> anyhow::Result<()> {
        let bar = spinner("audit: counting the records audit-log reads");
        let kafka = self.kafka(&self.prefix.clone());
        let topics = kafka.topics();
        let names = vec![
            topics.name(TopicKind::AccountEvents),
            topics.name(TopicKind::TransferEvents),
            topics.name(TopicKind::CommandResults),
        ];
        let records = tokio::task::spawn_blocking(move || kafka::scan(&kafka, &names, 0))
            .await??
            .records;
        bar.finish_and_clear();
        let bar = counter("audit: audit-log catching up", records);
        let started = Instant::now();
        let audit = self
            .start("audit-log", &self.prefix.clone(), &[], "audit-log-backlog")
            .await?;
        let peaks = RssPeaks::start(vec![("audit-log".into(), audit.pid())]);
        let cpu = CpuSnapshot::take(&[("audit-log".to_owned(), audit.pid())]);
        let metrics = format!("{}/metrics", audit.base_url());
        let mut first: Option<Instant> = None;
        let mut recorded;
        loop {
            let text = self.http.get(&metrics).send().await?.text().await?;
            recorded = metric_sum(&text, "eventbank_audit_records_total");
            let taken = recorded
                + metric_sum(&text, "eventbank_audit_skipped_total")
                + metric_sum(&text, "eventbank_audit_duplicates_total")
                + metric_sum(&text, "eventbank_audit_dead_letters_total");
            bar.set_position(taken);
            if taken > 0 && first.is_none() {
                first = Some(Instant::now());
            }
            if taken >= records {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(1800),
                "audit-log took {taken} of {records} records in 30 minutes"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let done = Instant::now();
        let cpu = cpu.since();
        let peaks = peaks.stop();
        audit.stop(STOP_GRACE).await?;
        bar.finish_and_clear();
        self.note_load_rss(&peaks, "audit catch-up");
        let elapsed = done.saturating_duration_since(first.unwrap_or(started));
        self.results.audit = Audit {
            records,
            recorded,
            elapsed_ms: ms(elapsed),
            per_sec: load::per_second(records, elapsed),
            cpu,
        };
        println!(
            "[bench] audit: {records} records ({recorded} recorded) at {} records/s",
            self.results.audit.per_sec
        );
        Ok(())
    }
}
