//! The targets of issue 12 checked against a run's figures, and their
//! table: printed and kept in `results.json`, never asserted.

use super::table::render;
use super::{Results, TargetCheck, mib, ms, percent};

impl Results {
    /// Checks the targets of issue 12 against the figures.
    pub fn check_targets(&mut self) {
        let mut checks = Vec::new();
        if let Some(one) = self.http.iter().find(|l| l.clients == 1) {
            checks.push(TargetCheck {
                target: "one command over HTTP, sequential, p50".into(),
                goal: "<= 10 ms".into(),
                measured: ms(one.latency.p50_us),
                met: one.latency.count > 0 && one.latency.p50_us <= 10_000,
            });
            checks.push(TargetCheck {
                target: "one command over HTTP, sequential, p99".into(),
                goal: "<= 25 ms".into(),
                measured: ms(one.latency.p99_us),
                met: one.latency.count > 0 && one.latency.p99_us <= 25_000,
            });
        }
        if let Some(half) = self.visible.iter().find(|l| l.percent == 50) {
            checks.push(TargetCheck {
                target: "command -> visible in the view, p99 at 50% of max load".into(),
                goal: "<= 50 ms".into(),
                measured: ms(half.command_to_visible.p99_us),
                met: half.command_to_visible.count > 0 && half.command_to_visible.p99_us <= 50_000,
            });
        }
        let produce = self.ceiling.produce.records_per_sec;
        checks.push(TargetCheck {
            target: "exactly-once commands/s from a backlog vs raw produce".into(),
            goal: ">= 25%".into(),
            measured: format!(
                "{} ({} of {produce}/s)",
                percent(self.backlog.per_sec, produce),
                self.backlog.per_sec
            ),
            met: produce > 0 && self.backlog.per_sec * 4 >= produce,
        });
        let consume = self.ceiling.consume.records_per_sec;
        checks.push(TargetCheck {
            target: "projector rebuild events/s vs raw consume".into(),
            goal: ">= 30%".into(),
            measured: format!(
                "{} ({} of {consume}/s)",
                percent(self.rebuild.per_sec, consume),
                self.rebuild.per_sec
            ),
            met: consume > 0 && self.rebuild.per_sec * 10 >= consume * 3,
        });
        for (service, rss) in &self.rss {
            checks.push(TargetCheck {
                target: format!("{service} RSS idle"),
                goal: "<= 30 MB".into(),
                measured: mib(rss.idle_kib),
                // 30 MB = 30,000,000 bytes.
                met: rss.idle_kib > 0 && rss.idle_kib * 1024 <= 30_000_000,
            });
        }
        self.targets = checks;
    }

    /// The targets with their goals, what was measured, and whether it met them.
    pub fn targets_table(&self) -> String {
        let mut rows: Vec<[String; 4]> = vec![[
            "target".into(),
            "goal".into(),
            "measured".into(),
            "met".into(),
        ]];
        for check in &self.targets {
            rows.push([
                check.target.clone(),
                check.goal.clone(),
                check.measured.clone(),
                if check.met { "yes" } else { "NO" }.into(),
            ]);
        }
        render(&rows)
    }
}
