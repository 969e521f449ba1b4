//! The targets of issue 12 checked against a run's figures, and their
//! table: printed and kept in `results.json`, never asserted.

use super::table::render;
use super::{Results, TargetCheck, mib, ms, percent};

impl Results {
    /// Checks the targets of issue 12 against the figures.
    pub fn check_targets(&mut self) {
        let mut checks = Vec::new();
        if let Some(one) = self.http.iter().find(|l| l.clients == 1) {
            checks.push(latency_check(
                "one command over HTTP, sequential, p50",
                10,
                one.latency.p50_us,
                one.latency.count,
            ));
            checks.push(latency_check(
                "one command over HTTP, sequential, p99",
                25,
                one.latency.p99_us,
                one.latency.count,
            ));
        }
        if let Some(half) = self.visible.iter().find(|l| l.offered.percent == 50) {
            checks.push(latency_check(
                "command -> visible in the view, p99 at 50% of max load",
                50,
                half.command_to_visible.p99_us,
                half.command_to_visible.count,
            ));
        }
        let produce = self.ceiling.produce.records_per_sec;
        checks.push(share_check(
            "exactly-once commands/s from a backlog vs raw produce",
            ">= 25%",
            self.backlog.per_sec,
            produce,
            self.backlog.per_sec * 4 >= produce,
        ));
        let consume = self.ceiling.consume.records_per_sec;
        checks.push(share_check(
            "projector rebuild events/s vs raw consume",
            ">= 30%",
            self.rebuild.per_sec,
            consume,
            self.rebuild.per_sec * 10 >= consume * 3,
        ));
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

/// A latency at most `goal_ms`; not met when nothing was measured.
fn latency_check(target: &str, goal_ms: u64, measured_us: u64, count: u64) -> TargetCheck {
    TargetCheck {
        target: target.into(),
        goal: format!("<= {goal_ms} ms"),
        measured: ms(measured_us),
        met: count > 0 && measured_us <= goal_ms * 1_000,
    }
}

/// A rate as a share of its raw ceiling; not met when the ceiling is unknown.
fn share_check(target: &str, goal: &str, per_sec: u64, ceiling: u64, met: bool) -> TargetCheck {
    TargetCheck {
        target: target.into(),
        goal: goal.into(),
        measured: format!("{} ({per_sec} of {ceiling}/s)", percent(per_sec, ceiling)),
        met: ceiling > 0 && met,
    }
}
