//! Stage **rebuild**: synthetic events on an `account-events` of their own,
//! a projector catching up on them, then rebuilding them until the new
//! generation is served.

use std::time::{Duration, Instant};

use eventbank_events::TopicKind;
use indicatif::ProgressBar;

use super::progress::{counter, spinner};
use super::synthetic_events::produce_streams;
use super::{Bench, STOP_GRACE, ms};
use crate::bank::Bank;
use crate::kafka;
use crate::load;
use crate::report::Rebuild;
use crate::services::{CpuSnapshot, RssPeaks};

impl Bench {
    /// Synthetic streams straight to a separate `account-events`, a projector
    /// catching up on them, then `POST /admin/rebuild`.
    pub(super) async fn rebuild(&mut self) -> anyhow::Result<()> {
        let prefix = format!("{}rebuild.", self.prefix);
        let kafka = self.kafka(&prefix);
        kafka::create_system_topics(&kafka).await?;
        let events = self.config.rebuild_events.max(1);
        let accounts = self.config.rebuild_accounts.clamp(1, events);
        let topic = kafka.topics().name(TopicKind::AccountEvents);
        let bar = counter("rebuild: producing synthetic events", events);
        let started = Instant::now();
        produce_streams(&kafka, &topic, events, accounts, &bar).await?;
        let produce_ms = ms(started.elapsed());
        bar.finish_and_clear();

        let bar = spinner("rebuild: raw read of the events (rdkafka)");
        let scan_kafka = kafka.clone();
        let scan_topic = topic.clone();
        let scan = tokio::task::spawn_blocking(move || kafka::scan(&scan_kafka, &[scan_topic], 0))
            .await??;
        bar.finish_and_clear();

        let bar = counter("rebuild: projector catching up", events);
        let started = Instant::now();
        let extra = [("EVENTBANK_PROJECTOR__LAG_INTERVAL_MS", "100".to_owned())];
        let projector = self
            .start(
                "balance-projector",
                &prefix,
                &extra,
                "balance-projector-rebuild",
            )
            .await?;
        let peaks = RssPeaks::start(vec![("balance-projector".into(), projector.pid())]);
        let metrics = format!("{}/metrics", projector.base_url());
        let projector_pid = vec![("balance-projector".to_owned(), projector.pid())];
        let catch_up = self
            .wait_projected(&metrics, 1, events, started, &bar)
            .await?;
        bar.finish_and_clear();

        let bar = counter("rebuild: POST /admin/rebuild", events);
        let bank = Bank::new(
            String::new(),
            projector.base_url(),
            4,
            Duration::from_secs(30),
        );
        let cpu = CpuSnapshot::take(&projector_pid);
        let started = Instant::now();
        let (status, body) = bank
            .post_empty(&projector.base_url(), "/admin/rebuild")
            .await
            .map_err(|e| anyhow::anyhow!("POST /admin/rebuild: {e}"))?;
        anyhow::ensure!(
            status == 202,
            "POST /admin/rebuild answered {status}: {body}"
        );
        let reply: serde_json::Value = serde_json::from_str(&body)?;
        let to = reply["generation"]
            .as_u64()
            .ok_or_else(|| anyhow::anyhow!("POST /admin/rebuild without a generation: {body}"))?;
        let applied = self
            .wait_projected(&metrics, to, events, started, &bar)
            .await?;
        bar.set_message("rebuild: waiting for the switch");
        loop {
            let text = bank
                .get_text(&projector.base_url(), "/admin/generation")
                .await
                .map_err(|e| anyhow::anyhow!("GET /admin/generation: {e}"))?;
            let current: serde_json::Value = serde_json::from_str(&text)?;
            if current["current"].as_u64() == Some(to) {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(3600),
                "the rebuild did not switch within an hour"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let switched = started.elapsed();
        let cpu = cpu.since();
        let peaks = peaks.stop();
        projector.stop(STOP_GRACE).await?;
        bar.finish_and_clear();
        self.note_load_rss(&peaks, "rebuild");
        self.results.rebuild = Rebuild {
            events,
            accounts,
            produce_ms,
            raw_read_ms: ms(scan.elapsed),
            raw_read_per_sec: load::per_second(scan.records, scan.elapsed),
            catch_up_ms: ms(catch_up),
            catch_up_per_sec: load::per_second(events, catch_up),
            rebuild_ms: ms(switched),
            per_sec: load::per_second(events, switched),
            cpu,
        };
        println!(
            "[bench] rebuild: {events} events; catch-up {} events/s, rebuild {} events/s \
             (all applied after {} ms, served after {} ms); raw read {} records/s",
            self.results.rebuild.catch_up_per_sec,
            self.results.rebuild.per_sec,
            ms(applied),
            ms(switched),
            self.results.rebuild.raw_read_per_sec
        );
        Ok(())
    }

    /// Waits until the projector writing `generation` has seen `events`
    /// events; how long after `since`.
    pub(super) async fn wait_projected(
        &self,
        metrics: &str,
        generation: u64,
        events: u64,
        since: Instant,
        bar: &ProgressBar,
    ) -> anyhow::Result<Duration> {
        let label = format!("generation=\"{generation}\"");
        loop {
            let text = self.http.get(metrics).send().await?.text().await?;
            let seen: u64 = text
                .lines()
                .filter(|l| {
                    l.starts_with("eventbank_projector_events_total{") && l.contains(&label)
                })
                .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
                .sum();
            bar.set_position(seen);
            if seen >= events {
                let gaps = text
                    .lines()
                    .filter(|l| {
                        l.starts_with("eventbank_projector_events_total{")
                            && l.contains(&label)
                            && !l.contains("outcome=\"applied\"")
                    })
                    .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
                    .sum::<u64>();
                if gaps > 0 {
                    eprintln!(
                        "[bench] warning: {gaps} events of generation {generation} were not applied"
                    );
                }
                return Ok(since.elapsed());
            }
            anyhow::ensure!(
                since.elapsed() < Duration::from_secs(3600),
                "the projector saw {seen} of {events} events in an hour"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
