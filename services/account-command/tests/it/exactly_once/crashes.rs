//! Processors killed mid-stream or leaving and joining under load: the
//! commands settled meanwhile take effect exactly once.

use std::time::Duration;

use crate::common::{ProcessorProcess, Running, settings};
use eventbank_testkit::Isolation;
use eventbank_testkit::bank::BankClient;

use super::verify::verify;
use super::workload::{COMMANDS, shared_kafka, start_workload, wait_for};

#[tokio::test(flavor = "multi_thread")]
async fn killing_the_processor_twice_mid_stream_loses_and_doubles_nothing() {
    let isolation = Isolation::new("crash");
    let api = Running::start(settings(&isolation, true, false, "api")).await;
    let client = BankClient::new(api.base_url());
    let mut processor = ProcessorProcess::spawn(&isolation, "p0");

    let (done, work) = start_workload(&client, &["Ann", "Bo", "Cy"]).await;
    for fraction in [3, 2] {
        wait_for(&done, COMMANDS / fraction).await;
        processor.kill();
        tokio::time::sleep(Duration::from_millis(500)).await;
        // Same instance name, so the same transactional id: the new process
        // fences the dead one's open transaction instead of waiting it out.
        processor = ProcessorProcess::spawn(&isolation, "p0");
    }
    let replies = work.await.expect("workload");
    verify(&shared_kafka(&isolation), &client, &replies).await;
    processor.terminate();
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn instances_leaving_and_joining_under_load_apply_every_command_once() {
    let isolation = Isolation::new("rebalance");
    let api = Running::start(settings(&isolation, true, false, "api")).await;
    let client = BankClient::new(api.base_url());
    // Dynamic membership: a leaving instance hands its partitions over at
    // once, so partitions really move between the two under load.
    let dynamic = [("EVENTBANK_PROCESSOR__STATIC_MEMBERSHIP", "false")];
    let p0 = ProcessorProcess::spawn_with(&isolation, "p0", &dynamic);
    let mut p1 = Some(ProcessorProcess::spawn_with(&isolation, "p1", &dynamic));

    let (done, work) = start_workload(&client, &["Ann", "Bo", "Cy", "Di"]).await;
    wait_for(&done, COMMANDS / 3).await;
    p1.take().expect("p1 running").terminate();
    wait_for(&done, COMMANDS / 2).await;
    let p1 = ProcessorProcess::spawn_with(&isolation, "p1", &dynamic);
    let replies = work.await.expect("workload");
    verify(&shared_kafka(&isolation), &client, &replies).await;
    p1.terminate();
    p0.terminate();
    api.stop().await;
}
