//! `POST /admin/rebuild` runs one rebuild at a time, and once it has switched
//! the old generation's keys are deleted, against real Redis and Kafka.

use crate::common;

use common::{LONG, Running};
use eventbank_events::testing::{completed, credited, debited, deposited, opened};
use eventbank_events::{AccountId, TransferId};
use eventbank_testkit::{Isolation, RecordWriter, eventually};

/// The keys of generation `generation` under `prefix`.
async fn generation_keys(prefix: &str, generation: u64) -> Vec<String> {
    let mut conn = common::redis_connection().await;
    let mut keys = Vec::new();
    let mut iter = redis::AsyncCommands::scan_match::<_, String>(
        &mut conn,
        format!("{prefix}g{generation}:*"),
    )
    .await
    .expect("scan");
    while let Some(key) = futures::StreamExt::next(&mut iter).await {
        keys.push(key.expect("key"));
    }
    keys
}

/// The view answers what was written: balances, and the transfer's end.
async fn assert_reads(running: &Running, accounts: &[(AccountId, i64)], transfer: TransferId) {
    for (account, balance) in accounts {
        let (status, _, body) = running.get(&format!("/accounts/{account}")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["balance"], *balance, "{account}: {body}");
    }
    let (status, _, body) = running.get(&format!("/transfers/{transfer}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "completed", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_rebuild_at_a_time_and_the_old_generation_is_deleted_after_the_switch() {
    let isolation = Isolation::new("rebuild-once");
    let settings = common::settings(&isolation);
    let prefix = settings.redis.key_prefix.clone();
    let running = Running::start_ready(settings.clone()).await;
    let writer = RecordWriter::new(&settings.kafka);
    let (ann, bob) = (AccountId::new(), AccountId::new());
    let transfer = TransferId::new();
    writer.account(ann, 1, opened("Ann")).await;
    writer.account(ann, 2, deposited(500, 500)).await;
    writer
        .account(ann, 3, debited(transfer, bob, 200, 300))
        .await;
    writer.account(bob, 1, opened("Bob")).await;
    writer
        .account(bob, 2, credited(transfer, ann, 200, 200))
        .await;
    writer.transfer(transfer, 1, completed(ann, bob, 200)).await;
    running.wait_version(ann, 3).await;
    running.wait_version(bob, 2).await;
    let accounts = [(ann, 300), (bob, 200)];
    // The debit makes the transfer's view (pending); its completion comes
    // from transfer-events, which the projector may apply a batch later.
    eventually("the transfer projected as completed", LONG, || async {
        let (status, _, body) = running.get(&format!("/transfers/{transfer}")).await;
        (status == 200 && body["status"] == "completed").then_some(())
    })
    .await;
    assert_reads(&running, &accounts, transfer).await;
    let old_keys = generation_keys(&prefix, 1).await;
    assert!(!old_keys.is_empty(), "generation 1 holds the view");

    // Two at once: one starts, the other is refused.
    let (first, second) = tokio::join!(
        running.post("/admin/rebuild"),
        running.post("/admin/rebuild")
    );
    let mut answers = [first, second];
    answers.sort_by_key(|(status, _)| *status);
    let [(accepted, started), (refused, error)] = answers;
    assert_eq!((accepted, refused), (202, 409), "{started} / {error}");
    assert_eq!(error["error"]["code"], "rebuild_in_progress", "{error}");
    assert!(error["error"]["message"].is_string(), "{error}");
    let generation = started["generation"].as_u64().expect("generation");
    assert_eq!(started["from"], 1);

    running.wait_generation(generation).await;
    assert_reads(&running, &accounts, transfer).await;
    let started_waiting = std::time::Instant::now();
    eventually("the old generation deleted", LONG, || async {
        generation_keys(&prefix, 1).await.is_empty().then_some(())
    })
    .await;
    eprintln!(
        "{} keys of generation 1 gone {:?} after the switch",
        old_keys.len(),
        started_waiting.elapsed()
    );
    assert!(
        !generation_keys(&prefix, generation).await.is_empty(),
        "the new generation holds the view"
    );
    assert_reads(&running, &accounts, transfer).await;

    // Once the first has cleaned up, the lock is free for the next.
    let next = eventually("a later rebuild accepted", LONG, || async {
        let (status, body) = running.post("/admin/rebuild").await;
        match status {
            202 => Some(body),
            409 => None,
            other => panic!("rebuild answered {other}: {body}"),
        }
    })
    .await;
    assert_eq!(next["from"], generation);
    running
        .wait_generation(next["generation"].as_u64().expect("generation"))
        .await;
    assert_reads(&running, &accounts, transfer).await;

    running.stop().await;
}
