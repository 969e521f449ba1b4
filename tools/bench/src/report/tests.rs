//! Unit tests of the report: integer formatting, and targets that follow the figures.

use super::*;

#[test]
fn integer_formatting() {
    assert_eq!(percent(234, 1000), "23.4%");
    assert_eq!(percent(1, 0), "-");
    assert_eq!(ms(12_345), "12.3 ms");
    assert_eq!(ms(999), "0.9 ms");
    assert_eq!(mib(30 * 1024 + 512), "30.5 MiB");
}

#[test]
fn targets_follow_the_figures() {
    let mut results = Results::default();
    results.ceiling.produce.records_per_sec = 100_000;
    results.ceiling.consume.records_per_sec = 100_000;
    results.backlog.per_sec = 25_000;
    results.rebuild.per_sec = 29_999;
    results.rss.insert(
        "svc".into(),
        Rss {
            idle_kib: 29_296,
            ..Rss::default()
        },
    );
    results.check_targets();
    let met: Vec<bool> = results.targets.iter().map(|t| t.met).collect();
    assert_eq!(met, [true, false, true]);
    assert!(results.table().contains("25.0% of produce"));
}

/// The offered rate is one struct in code but, flattened, the same leading
/// fields of a level in `results.json` as before it was.
#[test]
fn a_level_lists_what_was_offered_first() {
    let json = serde_json::to_string(&TransferLevel::default()).expect("serializes");
    let keys: Vec<&str> = json
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|key| !key.is_empty())
        .take(6)
        .collect();
    assert_eq!(
        keys,
        [
            "percent",
            "offered_per_sec",
            "clients",
            "behind_schedule_ms",
            "completed",
            "failed"
        ]
    );
}
