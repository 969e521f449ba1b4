//! What the loop delivers: each output once and in order across a restart,
//! and records it cannot handle dead-lettered while the partition moves on.

use std::time::Duration;

use eventbank_events::dead_letter::HEADER_REASON;
use eventbank_testkit::Isolation;

use super::harness::{Harness, payloads};

#[tokio::test(flavor = "multi_thread")]
async fn outputs_once_dead_letters_poison_and_resumes_after_restart() {
    let isolation = Isolation::new("txloop");
    let harness = Harness::new(&isolation).await;

    let mut first: Vec<String> = (1..=20).map(|i| format!("a{i}")).collect();
    first.insert(7, "poison".into());
    harness.produce(&first).await;

    harness
        .run_until_outputs("first 20 outputs", 20, Duration::ZERO)
        .await;

    // Produced while no loop runs: the restarted loop must pick up exactly here.
    let second: Vec<String> = (21..=30).map(|i| format!("a{i}")).collect();
    harness.produce(&second).await;
    // With a quiet moment after: anything applied twice would show up then.
    harness
        .run_until_outputs("all 30 outputs", 30, Duration::from_secs(2))
        .await;

    let outputs = payloads(&harness.read(&harness.output).await);
    let expected: Vec<String> = (1..=30).map(|i| format!("{i}:a{i}")).collect();
    assert_eq!(
        outputs, expected,
        "every input once, in order, numbered without gaps"
    );

    let dead = harness.read(&harness.dlq).await;
    assert_eq!(payloads(&dead), ["poison"], "the original bytes are kept");
    assert_eq!(
        dead[0].header(HEADER_REASON),
        Some(b"payload is poison".as_slice())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_output_kafka_refuses_for_good_dead_letters_its_record_and_the_partition_moves_on() {
    let isolation = Isolation::new("txloop-huge");
    let harness = Harness::new(&isolation).await;
    harness
        .produce(&["a1".into(), "huge".into(), "a2".into()])
        .await;
    harness
        .run_until_outputs("the records around the refused one", 2, Duration::ZERO)
        .await;

    assert_eq!(
        payloads(&harness.read(&harness.output).await),
        ["1:a1", "2:a2"]
    );
    let dead = harness.read(&harness.dlq).await;
    assert_eq!(payloads(&dead), ["huge"]);
    let reason =
        String::from_utf8_lossy(dead[0].header(HEADER_REASON).unwrap_or_default()).into_owned();
    assert!(
        reason.contains("refused"),
        "the reason names the refusal: {reason}"
    );
}
