//! Issue 6: the audit log is killed (SIGKILL) mid-stream, twice, and
//! restarted; the trail ends up with every record exactly once, each stream
//! gapless and in order, every chain valid.

use crate::common;

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use common::{LONG, get_json, pg, spawn_process, wait_for_records};
use eventbank_events::testing::{Step, account_history, completed, envelope, rejection};
use eventbank_events::{AccountId, TopicKind, TransferId};
use eventbank_testkit::process::free_port;
use eventbank_testkit::{Isolation, RecordWriter, eventually};
use uuid::Uuid;

const ACCOUNTS: usize = 12;
const STEPS: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_stream_and_restarted_no_gap_no_duplicate() {
    let isolation = Isolation::new("audit-crash");
    let port = free_port();
    // Small batches: many transactions, so a kill lands between and inside them.
    let mut process = spawn_process(&isolation, "crash-0", port, 5);

    // Everything to be produced, interleaved across accounts.
    let accounts: Vec<AccountId> = (0..ACCOUNTS).map(|_| AccountId::new()).collect();
    let steps: Vec<Step> = (0..STEPS)
        .map(|i| {
            if i % 4 == 3 {
                Step::Withdraw(5)
            } else {
                Step::Deposit(10)
            }
        })
        .collect();
    let histories: Vec<_> = accounts
        .iter()
        .map(|a| account_history(*a, &steps))
        .collect();
    let mut expected_ids: HashSet<Uuid> = HashSet::new();
    let feed = RecordWriter::isolated(&isolation);
    let producer = {
        let histories = histories.clone();
        let accounts = accounts.clone();
        let isolation = isolation.clone();
        tokio::spawn(async move {
            let feed = RecordWriter::isolated(&isolation);
            let mut ids = Vec::new();
            for step in 0..=STEPS {
                for (index, history) in histories.iter().enumerate() {
                    feed.send(TopicKind::AccountEvents, &history[step]).await;
                    ids.push(history[step].event_id.as_uuid());
                    if step % 7 == 0 {
                        let rejected = rejection(accounts[index]);
                        feed.send(TopicKind::CommandResults, &rejected).await;
                        ids.push(rejected.command_id.as_uuid());
                    }
                }
                if step % 5 == 0 {
                    let transfer = envelope(
                        TransferId::new().into(),
                        1,
                        completed(accounts[0], accounts[1], 100),
                    );
                    feed.send(TopicKind::TransferEvents, &transfer).await;
                    ids.push(transfer.event_id.as_uuid());
                }
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
            ids
        })
    };

    let db = pg(&isolation).await;
    for threshold in [60, 160] {
        eventually(
            &format!("{threshold} records before the kill"),
            LONG,
            || async { (common::count(&db).await >= threshold).then_some(()) },
        )
        .await;
        assert!(process.is_running(), "audit-log died by itself");
        if threshold == 60 {
            assert!(
                !producer.is_finished(),
                "the first kill must land mid-stream"
            );
        }
        process.kill();
        process = spawn_process(&isolation, "crash-0", port, 5);
    }
    expected_ids.extend(producer.await.expect("producer"));
    // A duplicate on the wire (a result repeated for a retried command) is
    // still recorded once.
    let repeated = rejection(accounts[2]);
    feed.send(TopicKind::CommandResults, &repeated).await;
    feed.send(TopicKind::CommandResults, &repeated).await;
    expected_ids.insert(repeated.command_id.as_uuid());

    let total = i64::try_from(expected_ids.len()).unwrap();
    wait_for_records(&db, total).await;

    // Every record once: the same set of ids, no id twice.
    let rows = db
        .query(
            "SELECT stream_id, position, sequence, event_id FROM audit_records
             ORDER BY stream_id, position",
            &[],
        )
        .await
        .unwrap();
    let recorded: Vec<Uuid> = rows.iter().map(|r| r.get(3)).collect();
    assert_eq!(recorded.len(), expected_ids.len());
    assert_eq!(
        recorded.iter().copied().collect::<HashSet<_>>(),
        expected_ids
    );

    // No gap: positions 1..n per stream; events in sequence order 1..n.
    let mut streams: BTreeMap<Uuid, Vec<(i64, Option<i64>)>> = BTreeMap::new();
    for row in &rows {
        streams
            .entry(row.get(0))
            .or_default()
            .push((row.get(1), row.get(2)));
    }
    for (stream, records) in &streams {
        let positions: Vec<i64> = records.iter().map(|(p, _)| *p).collect();
        let expected: Vec<i64> = (1..=i64::try_from(records.len()).unwrap()).collect();
        assert_eq!(positions, expected, "positions of {stream}");
        let sequences: Vec<i64> = records.iter().filter_map(|(_, s)| *s).collect();
        let in_order: Vec<i64> = (1..=i64::try_from(sequences.len()).unwrap()).collect();
        assert_eq!(sequences, in_order, "event sequences of {stream}");
    }
    for history in &histories {
        let id = history[0].stream_id.as_uuid();
        assert_eq!(
            streams[&id].iter().filter(|(_, s)| s.is_some()).count(),
            STEPS + 1
        );
    }

    // The chains the restarted process wrote are intact, and add up.
    let base = format!("http://127.0.0.1:{port}");
    let (status, report) = get_json(&format!("{base}/audit/verify")).await;
    assert_eq!(status, 200);
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["records_checked"], total);
    let (_, reconciled) = get_json(&format!("{base}/audit/reconcile")).await;
    assert_eq!(reconciled["ok"], true, "{reconciled}");
    assert_eq!(reconciled["accounts_checked"], ACCOUNTS);

    process.terminate();
    common::drop_schema(&isolation).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_fenced_out_of_its_group_exits_non_zero() {
    // Two pods claiming one static identity (a zombie and its replacement):
    // the broker fences the older consumer out of the group, a fatal
    // consumer error. It must exit non-zero, so the orchestrator restarts
    // it, not stay up looking ready while it consumes nothing.
    let isolation = Isolation::new("audit-fenced");
    let first_port = free_port();
    let mut first = spawn_process(&isolation, "same-pod", first_port, 50);
    let ready = format!("http://127.0.0.1:{first_port}/readyz");
    eventually("the first instance ready", LONG, || async {
        let status = reqwest::get(&ready).await.ok()?.status();
        (status == 200).then_some(())
    })
    .await;

    let second = spawn_process(&isolation, "same-pod", free_port(), 50);
    let status = first.exit_status(Duration::from_secs(120)).await;
    assert!(
        !status.success(),
        "the fenced instance exits with a failure status, got {status}"
    );
    drop(second);
}
