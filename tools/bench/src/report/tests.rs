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
