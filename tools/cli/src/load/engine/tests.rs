//! Unit tests of the load engine: every request counted once, a rate and a
//! duration honoured, a run that could not end refused, integer rates.

use super::*;

struct Sleep(Duration);

impl Workload for Sleep {
    async fn call(&self, call: Call) -> Result<(), String> {
        tokio::time::sleep(self.0).await;
        if call.seq % 10 == 9 {
            Err("every tenth".to_owned())
        } else {
            Ok(())
        }
    }
}

#[tokio::test]
async fn counts_every_request_once_and_errors_by_kind() {
    let config = LoadConfig::new(4, Rate::Max).for_requests(100);
    let report = run(Arc::new(Sleep(Duration::from_millis(1))), &config, None)
        .await
        .expect("run");
    assert_eq!(report.calls(), 100);
    assert_eq!(report.ok, 90);
    assert_eq!(report.errors.get("every tenth"), Some(&10));
    assert_eq!(report.histogram.len(), 100);
}

#[tokio::test]
async fn a_rate_spaces_requests_and_a_duration_ends_the_run() {
    let config = LoadConfig::new(8, Rate::PerSecond(200)).for_duration(Duration::from_millis(200));
    let report = run(Arc::new(Sleep(Duration::ZERO)), &config, None)
        .await
        .expect("run");
    // 200/s for 0.2 s: requests 0..40 are due before the end.
    assert_eq!(report.calls(), 40);
}

#[test]
fn a_run_must_end_by_itself() {
    assert!(LoadConfig::new(1, Rate::Max).validate().is_err());
    assert!(
        LoadConfig::new(0, Rate::Max)
            .for_requests(1)
            .validate()
            .is_err()
    );
    assert!(
        LoadConfig::new(1, Rate::PerSecond(0))
            .for_requests(1)
            .validate()
            .is_err()
    );
}

#[test]
fn integer_rates() {
    assert_eq!(per_second(500, Duration::from_millis(250)), 2_000);
    assert_eq!(per_second(1, Duration::from_secs(3)), 0);
}
