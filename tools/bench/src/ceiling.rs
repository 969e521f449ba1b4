//! The ceiling: what this broker and machine do with no eventbank code in
//! the path, measured with Kafka's own `ProducerPerformance` and
//! `ConsumerPerformance` (from the Kafka jars `scripts/dev` fetches).
//!
//! The producer is configured like every eventbank producer (idempotent,
//! `acks=all`, lz4, `linger.ms=5`) and sends real `account-events` values
//! (a payload file sampled from the run's own events), so compression sees
//! the same bytes. The consumer reads them back `read_committed`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;

/// A Kafka tool run's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ToolFigures {
    pub records: u64,
    pub records_per_sec: u64,
    /// Whole megabytes per second, as the tool counts them.
    pub mb_per_sec: u64,
}

/// How to run the Kafka tools.
#[derive(Debug, Clone)]
pub struct KafkaTools {
    /// The directory of the Kafka jars.
    pub libs: PathBuf,
    /// A log4j2 configuration that keeps the tools quiet.
    pub log4j: PathBuf,
    pub bootstrap: String,
}

impl KafkaTools {
    /// Writes the quiet log4j2 configuration into `dir`.
    pub fn new(libs: PathBuf, bootstrap: String, dir: &Path) -> anyhow::Result<Self> {
        let has_tools = std::fs::read_dir(&libs).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("kafka-tools-"))
        });
        anyhow::ensure!(
            has_tools,
            "no kafka-tools jar in {} (set EVENTBANK_TEST_KAFKA_LIBS to the Kafka jars)",
            libs.display()
        );
        let log4j = dir.join("tools-log4j2.xml");
        std::fs::write(
            &log4j,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="warn">
  <Appenders><Console name="stderr" target="SYSTEM_ERR"><PatternLayout pattern="%p %m%n"/></Console></Appenders>
  <Loggers><Root level="error"><AppenderRef ref="stderr"/></Root></Loggers>
</Configuration>
"#,
        )?;
        Ok(Self {
            libs,
            log4j,
            bootstrap,
        })
    }

    /// Runs the tool `class` with `args` and reads its summary with `parse`.
    async fn figures(
        &self,
        class: &str,
        args: &[&str],
        parse: fn(&str) -> Option<ToolFigures>,
    ) -> anyhow::Result<ToolFigures> {
        let out = self.run(class, args).await?;
        parse(&out).ok_or_else(|| anyhow::anyhow!("cannot read {class}'s summary: {out}"))
    }

    async fn run(&self, class: &str, args: &[&str]) -> anyhow::Result<String> {
        let mut command = Command::new("java");
        command
            .arg("-Xmx512m")
            .arg(format!(
                "-Dlog4j2.configurationFile={}",
                self.log4j.display()
            ))
            .arg("-cp")
            .arg(format!("{}/*", self.libs.display()))
            .arg(format!("org.apache.kafka.tools.{class}"))
            .args(args)
            .stdin(Stdio::null());
        let output = tokio::task::spawn_blocking(move || command.output()).await??;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        anyhow::ensure!(
            output.status.success(),
            "{class} failed ({}): {}{}",
            output.status,
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(stdout)
    }

    /// `ProducerPerformance` at full speed: `records` records taken in turn
    /// from `payload_file` (one value per line).
    pub async fn produce(
        &self,
        topic: &str,
        records: u64,
        payload_file: &Path,
    ) -> anyhow::Result<ToolFigures> {
        let args = [
            "--topic",
            topic,
            "--num-records",
            &records.to_string(),
            "--throughput",
            "-1",
            "--payload-file",
            &payload_file.display().to_string(),
            "--producer-props",
            &format!("bootstrap.servers={}", self.bootstrap),
            "acks=all",
            "enable.idempotence=true",
            "compression.type=lz4",
            "linger.ms=5",
        ];
        self.figures("ProducerPerformance", &args, parse_producer)
            .await
    }

    /// `ConsumerPerformance`, `read_committed`, of `records` records.
    pub async fn consume(
        &self,
        topic: &str,
        records: u64,
        dir: &Path,
    ) -> anyhow::Result<ToolFigures> {
        let config = dir.join("consumer.properties");
        std::fs::write(&config, "isolation.level=read_committed\n")?;
        let args = [
            "--bootstrap-server",
            &self.bootstrap,
            "--topic",
            topic,
            "--messages",
            &records.to_string(),
            "--consumer.config",
            &config.display().to_string(),
            "--group",
            &format!("{topic}-perf-consumer"),
            "--timeout",
            "30000",
        ];
        self.figures("ConsumerPerformance", &args, parse_consumer)
            .await
    }
}

/// The integer part of a decimal figure.
fn whole(text: &str) -> Option<u64> {
    text.trim().split('.').next()?.parse().ok()
}

/// `500000 records sent, 151057.4 records/sec (43.87 MB/sec), ...`
fn parse_producer(out: &str) -> Option<ToolFigures> {
    let line = out
        .lines()
        .rev()
        .find(|line| line.contains("records sent,"))?;
    let records = whole(line.split(" records sent,").next()?)?;
    let rate = line.split("records sent,").nth(1)?;
    let records_per_sec = whole(rate.split("records/sec").next()?)?;
    let mb_per_sec = whole(rate.split('(').nth(1)?.split("MB/sec").next()?)?;
    Some(ToolFigures {
        records,
        records_per_sec,
        mb_per_sec,
    })
}

/// A header line naming the columns, then one line of values. The fetch
/// figures exclude the group join.
fn parse_consumer(out: &str) -> Option<ToolFigures> {
    let mut lines = out.lines().filter(|l| !l.trim().is_empty());
    let header = lines.find(|l| l.contains("nMsg.sec"))?;
    let values = lines.next()?;
    let columns: Vec<&str> = header.split(',').map(str::trim).collect();
    let cells: Vec<&str> = values.split(',').map(str::trim).collect();
    let cell = |name: &str| {
        columns
            .iter()
            .position(|c| *c == name)
            .and_then(|i| cells.get(i))
            .and_then(|v| whole(v))
    };
    Some(ToolFigures {
        records: cell("data.consumed.in.nMsg")?,
        records_per_sec: cell("fetch.nMsg.sec")?,
        mb_per_sec: cell("fetch.MB.sec")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_producer_summary() {
        let out = "100 records sent, 20.0 records/sec\n\
                   500000 records sent, 151057.4 records/sec (43.87 MB/sec), 12.34 ms avg latency, \
                   456.00 ms max latency, 10 ms 50th, 30 ms 95th, 40 ms 99th, 50 ms 99.9th.\n";
        assert_eq!(
            parse_producer(out),
            Some(ToolFigures {
                records: 500_000,
                records_per_sec: 151_057,
                mb_per_sec: 43
            })
        );
    }

    #[test]
    fn reads_the_consumer_summary() {
        let out = "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, \
                   rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n\
                   2026-12-02 07:40:00:000, 2026-12-02 07:40:05:000, 143.0, 28.6, 500000, 100000.0, \
                   3000, 2000, 71.5, 250000.0\n";
        assert_eq!(
            parse_consumer(out),
            Some(ToolFigures {
                records: 500_000,
                records_per_sec: 250_000,
                mb_per_sec: 71
            })
        );
    }
}
