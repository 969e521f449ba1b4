//! Reading a service's Prometheus text in tests.

/// The sum of every sample of the series whose line starts with `prefix`
/// (a name, or a name and `{` to take only labelled samples).
pub fn sum(text: &str, prefix: &str) -> f64 {
    text.lines()
        .filter(|line| line.starts_with(prefix))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
