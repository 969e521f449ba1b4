//! Reading a service's Prometheus text in tests.

/// The Prometheus text at `base_url`'s `/metrics` (`base_url` as
/// `http://host:port`); `None` on any failure, so it can be polled.
pub async fn scrape(base_url: &str) -> Option<String> {
    reqwest::get(format!("{base_url}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()
}

/// The sum of every sample of the series whose line starts with `prefix`
/// (a name, or a name and `{` to take only labelled samples).
pub fn sum(text: &str, prefix: &str) -> f64 {
    text.lines()
        .filter(|line| line.starts_with(prefix))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
