//! The projector against the real Kafka and Redis: events produced directly to
//! the topics (wire-encoded), views read over HTTP.

use crate::common;

use std::time::Duration;

use balance_projector::Settings;
use balance_projector::store::{AccountView, Store};
use common::{LONG, Running, events_series, events_total, redis_connection};
use eventbank_events::testing::{
    completed, credited, debited, deposited, failed, opened, refunded, withdrawn,
};
use eventbank_events::{AccountEvent, AccountId, TopicKind, TransferId, wire};
use eventbank_testkit::log::read_topic;
use eventbank_testkit::{Isolation, RecordWriter, eventually};
use serde_json::Value;

fn settings(isolation: &Isolation, group: &str) -> Settings {
    let mut settings = common::settings(isolation);
    settings.projector.consumer_group = group.to_owned();
    settings.projector.read_wait_ms = 1_500;
    settings.projector.lag_interval_ms = 200;
    settings
}

/// A test's own topics and keyspace, a projector on them (group
/// `projector`) and a writer to them.
async fn start(label: &str) -> (Isolation, Settings, Running, RecordWriter) {
    let isolation = Isolation::new(label);
    let settings = settings(&isolation, "projector");
    let running = Running::start(settings.clone()).await;
    let writer = RecordWriter::new(&settings.kafka);
    (isolation, settings, running, writer)
}

/// The streams [`scenario`] wrote.
struct Scenario {
    a: AccountId,
    b: AccountId,
    c: AccountId,
    /// a→b, completed.
    t1: TransferId,
    /// a→c, failed (c is closed) and refunded.
    t2: TransferId,
}

/// Accounts a, b, c; a transfer a→b that completes and one a→c that fails.
async fn scenario(writer: &RecordWriter) -> Scenario {
    let (a, b, c) = (AccountId::new(), AccountId::new(), AccountId::new());
    let (t1, t2) = (TransferId::new(), TransferId::new());
    writer.account(a, 1, opened("Ann")).await;
    writer.account(a, 2, deposited(500, 500)).await;
    writer.account(a, 3, withdrawn(200, 300)).await;
    writer.account(b, 1, opened("Bo")).await;
    writer.account(c, 1, opened("Cy")).await;
    writer.account(c, 2, AccountEvent::AccountClosed {}).await;
    writer.account(a, 4, debited(t1, b, 100, 200)).await;
    writer.account(b, 2, credited(t1, a, 100, 100)).await;
    writer.transfer(t1, 1, completed(a, b, 100)).await;
    writer.account(a, 5, debited(t2, c, 50, 150)).await;
    writer.account(a, 6, refunded(t2, 50, 200)).await;
    writer.transfer(t2, 1, failed(a, c, 50)).await;
    Scenario { a, b, c, t1, t2 }
}

/// A projector started as `label` that has applied the [`scenario`] (a's
/// and b's views show all of it), the scenario, and every account view then.
async fn projected(
    label: &str,
) -> (
    Isolation,
    Settings,
    Running,
    RecordWriter,
    Scenario,
    Vec<AccountView>,
) {
    let (isolation, settings, running, writer) = start(label).await;
    let scenario = scenario(&writer).await;
    running.wait_version(scenario.a, 6).await;
    running.wait_version(scenario.b, 2).await;
    let views = snapshot(&running.store).await;
    (isolation, settings, running, writer, scenario, views)
}

/// Every account view, in an order two snapshots can be compared in.
async fn snapshot(store: &Store) -> Vec<AccountView> {
    let mut accounts = store.scan_accounts().await.expect("scan");
    accounts.sort_by(|x, y| x.account_id.cmp(&y.account_id));
    accounts
}

/// The sequences on a page of an account's transactions.
fn sequences(page: &Value) -> Vec<u64> {
    page["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sequence"].as_u64().unwrap())
        .collect()
}

async fn assert_error(running: &Running, path: &str, status: u16, code: &str) {
    let (got, _, err) = running.get(path).await;
    assert_eq!(
        (got, err["error"]["code"].as_str()),
        (status, Some(code)),
        "GET {path}"
    );
}

/// Asserts the projector counted no event as `outcome`; `why` says what
/// one would mean.
async fn assert_none_counted(running: &Running, outcome: &str, why: &str) {
    let text = running.metrics().await.expect("GET /metrics");
    assert!(
        events_series(&text, outcome).next().is_none(),
        "{why}: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_match_the_events_and_gaps_poison_and_waits_behave() {
    let (_, settings, running, writer) = start("views").await;
    running.wait_ready().await;

    let Scenario { a, b, c, t1, t2 } = scenario(&writer).await;

    // Poison of every kind on account-events, then a gap on account d, then
    // more events.
    let poison = eventbank_testkit::poison::variants(
        include_bytes!("../../../../libs/events/tests/fixtures/account-event/money_deposited.json"),
        "event",
        "type",
    );
    for (_, value) in &poison {
        writer
            .raw(TopicKind::AccountEvents, &wire::encode_key(a), value)
            .await;
    }
    let d = AccountId::new();
    writer.account(d, 1, opened("Di")).await;
    writer.account(d, 3, deposited(10, 10)).await; // gap: 2 is missing
    writer.account(d, 4, deposited(10, 20)).await; // held back
    writer.account(a, 7, deposited(1, 201)).await; // after the poison
    let t3 = TransferId::new();
    // A gap: a transfer stream starts at 1.
    writer.transfer(t3, 2, completed(a, b, 1)).await;

    let view = running.wait_version(a, 7).await;
    assert_eq!(view["balance"], 201);
    assert_eq!(view["holder"], "Ann");
    assert_eq!(view["currency"], "EUR");
    assert_eq!(view["status"], "open");
    assert_eq!(view["behind"], false);
    let view_b = running.wait_version(b, 2).await;
    assert_eq!(view_b["balance"], 100);
    let view_c = running.wait_version(c, 2).await;
    assert_eq!(view_c["status"], "closed");
    assert_eq!(view_c["balance"], 0);

    // Gap: d stays at version 1, later events held back.
    let view_d = running.wait_version(d, 1).await;
    eventually("gap counted", LONG, || async {
        let text = running.metrics().await?;
        (text.contains("outcome=\"gap\"") && text.contains("outcome=\"stalled\"")).then_some(())
    })
    .await;
    let (_, _, again) = running.get(&format!("/accounts/{d}")).await;
    assert_eq!(again["version"], 1, "{view_d}");
    assert_eq!(again["balance"], 0);
    let stalled = running.store.stalled_accounts().await.unwrap();
    assert!(stalled.contains_key(&d.to_string()), "{stalled:?}");

    // Transfers: transfer-events is another topic, applied on its own
    // schedule; wait until it has been read, then check exactly.
    eventually("transfer outcomes applied", LONG, || async {
        let (_, _, a) = running.get(&format!("/transfers/{t1}")).await;
        let (_, _, b) = running.get(&format!("/transfers/{t2}")).await;
        (a["status"] != "pending" && b["status"] != "pending").then_some(())
    })
    .await;
    let (status, _, t) = running.get(&format!("/transfers/{t1}")).await;
    assert_eq!(status, 200);
    assert_eq!(t["status"], "completed");
    assert!(t.get("reason").is_none());
    let (_, _, t) = running.get(&format!("/transfers/{t2}")).await;
    assert_eq!(t["status"], "failed");
    assert_eq!(t["reason"], "account_closed");
    eventually("transfer gap counted", LONG, || async {
        let text = running.metrics().await?;
        text.lines()
            .any(|l| {
                l.contains(&writer.topic(TopicKind::TransferEvents))
                    && l.contains("outcome=\"gap\"")
            })
            .then_some(())
    })
    .await;
    let (status, _, _) = running.get(&format!("/transfers/{t3}")).await;
    assert_eq!(status, 404, "a transfer event after a gap is not applied");
    let unknown = format!("/transfers/{}", TransferId::new());
    assert_error(&running, &unknown, 404, "transfer_not_found").await;

    // History: newest first, paged with before.
    let (_, _, page) = running
        .get(&format!("/accounts/{a}/transactions?limit=3"))
        .await;
    assert_eq!(sequences(&page), vec![7, 6, 5]);
    assert_eq!(page["transactions"][1]["type"], "transfer_refunded");
    assert_eq!(page["transactions"][1]["reason"], "account_closed");
    let (_, _, page) = running
        .get(&format!("/accounts/{a}/transactions?limit=10&before=5"))
        .await;
    assert_eq!(sequences(&page), vec![4, 3, 2, 1]);
    assert_eq!(page["transactions"][1]["balance_after"], 300);

    // Errors.
    assert_error(&running, "/accounts/not-a-uuid", 400, "invalid_account_id").await;
    let bad_version = format!("/accounts/{a}?min_version=x");
    assert_error(&running, &bad_version, 400, "invalid_min_version").await;
    let unknown = format!("/accounts/{}", AccountId::new());
    assert_error(&running, &unknown, 404, "account_not_found").await;

    // Index query agrees with a full scan.
    let all = snapshot(&running.store).await;
    for (min, status) in [(0, "open"), (150, "open"), (0, "closed"), (-5, "open")] {
        let (code, _, body) = running
            .get(&format!(
                "/accounts?min_balance={min}&status={status}&limit=100"
            ))
            .await;
        assert_eq!(code, 200, "{body}");
        let mut got: Vec<String> = body["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|acc| acc["account_id"].as_str().unwrap().to_owned())
            .collect();
        got.sort();
        let mut want: Vec<String> = all
            .iter()
            .filter(|acc| acc.balance >= min && acc.status == status)
            .map(|acc| acc.account_id.clone())
            .collect();
        want.sort();
        assert_eq!(got, want, "min_balance={min} status={status}");
    }
    let (_, _, body) = running.get("/accounts?limit=2").await;
    assert_eq!(body["accounts"].as_array().unwrap().len(), 2);
    let (status, _, _) = running.get("/accounts?status=frozen").await;
    assert_eq!(status, 400);

    // Read-your-writes: a read for a version not yet there waits for it...
    let waiter = {
        let url = format!("{}/accounts/{a}?min_version=8", running.base);
        tokio::spawn(async move {
            let response = eventbank_testkit::http::client()
                .get(url)
                .send()
                .await
                .unwrap();
            let behind = response.headers().get("x-read-model-behind").cloned();
            (behind, response.json::<Value>().await.unwrap())
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    writer.account(a, 8, withdrawn(1, 200)).await;
    let (behind, body) = waiter.await.unwrap();
    assert!(behind.is_none());
    assert_eq!(body["version"], 8);
    assert_eq!(body["balance"], 200);
    // ...and one that cannot be reached answers, bounded, with what there is.
    let (status, behind, body) = running.get(&format!("/accounts/{a}?min_version=99")).await;
    assert_eq!(status, 200);
    assert_eq!(behind.as_deref(), Some("true"));
    assert_eq!(body["behind"], true);
    assert_eq!(body["version"], 8);

    // The poison went to the DLQ with its reason and original bytes.
    let letters = eventually("every dead letter", LONG, || async {
        let found = read_topic(&settings.kafka, TopicKind::AccountEvents, true).await;
        (found.len() >= poison.len()).then_some(found)
    })
    .await;
    eventbank_testkit::poison::assert_kept_as_written(&poison, &letters);
    let metrics = running.metrics().await.unwrap_or_default();
    let counted =
        eventbank_testkit::metrics::sum(&metrics, "eventbank_projector_dead_letters_total{");
    assert_eq!(counted as usize, poison.len(), "each counted: {metrics}");
    let letter = letters[0].dead_letter().expect("dead-letter headers");
    assert_eq!(letter.source_topic, writer.topic(TopicKind::AccountEvents));
    assert!(letter.reason.contains("invalid JSON"), "{}", letter.reason);

    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_and_replay_change_nothing() {
    let (isolation, settings, running, writer, scenario, before) = projected("replay").await;
    let Scenario { a, b, t2, .. } = scenario;
    let (_, _, history_before) = running
        .get(&format!("/accounts/{a}/transactions?limit=100"))
        .await;
    running.stop().await;

    // Restart from the committed offsets, then one more event.
    let running = Running::start_ready(settings.clone()).await;
    assert_eq!(snapshot(&running.store).await, before);
    writer.account(b, 3, deposited(5, 105)).await;
    running.wait_version(b, 3).await;
    assert_none_counted(&running, "skipped", "the restart re-read committed events").await;
    running.stop().await;
    let after_restart = {
        let r = Running::start(settings.clone()).await;
        let s = snapshot(&r.store).await;
        r.stop().await;
        s
    };

    // Replay everything from offset 0 (a fresh consumer group) into the same keyspace.
    let replay = Running::start_ready(self::settings(&isolation, "replay-group")).await;
    eventually("replay skipped every event", LONG, || async {
        let text = replay.metrics().await?;
        // 12 account/transfer events of the scenario + 1 deposit.
        (events_total(&text, "skipped") == 13).then_some(())
    })
    .await;
    let replayed = snapshot(&replay.store).await;
    assert_eq!(replayed, after_restart);
    let (_, _, history_after) = replay
        .get(&format!("/accounts/{a}/transactions?limit=100"))
        .await;
    assert_eq!(history_after, history_before);
    let (_, _, t) = replay.get(&format!("/transfers/{t2}")).await;
    assert_eq!(t["status"], "failed");
    assert_none_counted(&replay, "applied", "a replay applied something").await;
    replay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuild_into_a_fresh_generation_and_switch() {
    let (isolation, settings, running, writer, scenario, intact) = projected("rebuild").await;
    let Scenario { a, b, t2, .. } = scenario;
    let (_, _, generation) = running.get("/admin/generation").await;
    assert_eq!(generation["current"], 1);

    // Damage generation 1: lose account b's view.
    let mut conn = redis_connection().await;
    let _: i64 = redis::cmd("DEL")
        .arg(format!("{}g1:acct:{b}", isolation.redis_prefix()))
        .query_async(&mut conn)
        .await
        .unwrap();
    let (status, _, _) = running.get(&format!("/accounts/{b}")).await;
    assert_eq!(status, 404);

    let (status, body) = running.post("/admin/rebuild").await;
    assert_eq!(status, 202);
    assert_eq!(body["generation"], 2);
    // The old generation serves until the switch.
    let (status, _, view) = running.get(&format!("/accounts/{a}")).await;
    assert_eq!((status, view["version"].as_u64()), (200, Some(6)));

    running.wait_generation(2).await;
    let view_b = running.wait_version(b, 2).await;
    assert_eq!(view_b["balance"], 100);
    // The switch may come while the rebuild still trails by up to a batch;
    // the serving projector applies the rest into generation 2 once the
    // rebuild's consumer has left the group.
    let generation_2 = running.store.at_generation(2);
    eventually(
        "generation 2 holds everything generation 1 held",
        LONG,
        || async { (snapshot(&generation_2).await == intact).then_some(()) },
    )
    .await;
    let (_, _, t) = running.get(&format!("/transfers/{t2}")).await;
    assert_eq!(t["reason"], "account_closed");

    // The serving projector follows the switch: new events land in generation 2.
    writer.account(a, 7, deposited(5, 205)).await;
    let view = running.wait_version(a, 7).await;
    assert_eq!(view["balance"], 205);
    running.stop().await;

    // A restart serves and continues generation 2 from its committed offsets.
    let running = Running::start_ready(settings.clone()).await;
    writer.account(a, 8, deposited(5, 210)).await;
    let view = running.wait_version(a, 8).await;
    assert_eq!(view["balance"], 210);
    assert_none_counted(&running, "skipped", "restart re-read committed events").await;
    running.stop().await;
}
