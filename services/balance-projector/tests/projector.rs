//! The projector against the real Kafka and Redis: events produced directly to
//! the topics (wire-encoded), views read over HTTP.

use std::net::SocketAddr;
use std::time::Duration;

use balance_projector::store::AccountView;
use balance_projector::{App, Settings};
use chrono::Utc;
use eventbank_events::{
    AccountEvent, AccountEventEnvelope, AccountId, Amount, CommandId, CorrelationId, Currency,
    DeadLetter, EventEnvelope, EventId, Holder, Money, TopicKind, TransferEvent,
    TransferEventEnvelope, TransferFailureReason, TransferId, wire,
};
use eventbank_runtime::Service;
use eventbank_runtime::http::HttpSettings;
use eventbank_runtime::kafka::read_partition;
use eventbank_testkit::{Isolation, TestEnv, eventually};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const LONG: Duration = Duration::from_secs(60);

fn settings(isolation: &Isolation, group: &str) -> Settings {
    let env = TestEnv::get();
    let mut settings = Settings {
        instance: "test".to_owned(),
        http: HttpSettings {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        },
        kafka: env.kafka_settings(&isolation.topic_prefix()),
        ..Settings::default()
    };
    settings.redis.url = env.redis_url.clone();
    settings.redis.key_prefix = isolation.redis_prefix();
    settings.projector.consumer_group = group.to_owned();
    settings.projector.read_wait_ms = 1_500;
    settings.projector.lag_interval_ms = 200;
    settings
}

struct Running {
    base: String,
    app_store: balance_projector::store::Store,
    shutdown: CancellationToken,
    handle: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    async fn start(settings: Settings) -> Self {
        let app = App::build(settings).await.expect("build balance-projector");
        let addr = app.http_addr().expect("bound");
        let app_store = app.store().clone();
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(app.run(shutdown.clone()));
        Self {
            base: format!("http://127.0.0.1:{}", addr.port()),
            app_store,
            shutdown,
            handle,
        }
    }

    async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(LONG, self.handle)
            .await
            .expect("stops")
            .expect("no panic")
            .expect("clean stop");
    }

    async fn get(&self, path: &str) -> (u16, Option<String>, Value) {
        let response = reqwest::get(format!("{}{path}", self.base))
            .await
            .expect("GET");
        let status = response.status().as_u16();
        let behind = response
            .headers()
            .get("x-read-model-behind")
            .map(|v| v.to_str().unwrap_or_default().to_owned());
        let body = response.json().await.unwrap_or(Value::Null);
        (status, behind, body)
    }

    async fn wait_ready(&self) {
        eventually("projector ready", LONG, || async {
            let (status, _, _) = self.get("/readyz").await;
            (status == 200).then_some(())
        })
        .await;
    }

    async fn wait_version(&self, account: AccountId, version: u64) -> Value {
        eventually("account version", LONG, || async {
            let (status, _, body) = self.get(&format!("/accounts/{account}")).await;
            (status == 200 && body["version"].as_u64() >= Some(version)).then_some(body)
        })
        .await
    }
}

struct Writer {
    producer: FutureProducer,
    accounts: String,
    transfers: String,
}

impl Writer {
    fn new(settings: &Settings) -> Self {
        let topics = settings.kafka.topics();
        Self {
            producer: settings.kafka.producer().expect("producer"),
            accounts: topics.name(TopicKind::AccountEvents),
            transfers: topics.name(TopicKind::TransferEvents),
        }
    }

    async fn raw(&self, topic: &str, key: &[u8], value: &[u8]) {
        self.producer
            .send(
                FutureRecord::to(topic).key(key).payload(value),
                Duration::from_secs(10),
            )
            .await
            .expect("produce");
    }

    async fn account(&self, account: AccountId, sequence: u64, event: AccountEvent) {
        let envelope: AccountEventEnvelope = envelope(account.into(), sequence, event);
        self.raw(
            &self.accounts,
            &wire::encode_key(account),
            &wire::encode(&envelope),
        )
        .await;
    }

    async fn transfer(&self, transfer: TransferId, sequence: u64, event: TransferEvent) {
        let envelope: TransferEventEnvelope = envelope(transfer.into(), sequence, event);
        self.raw(
            &self.transfers,
            &wire::encode_key(transfer),
            &wire::encode(&envelope),
        )
        .await;
    }
}

fn envelope<E>(stream: eventbank_events::StreamId, sequence: u64, event: E) -> EventEnvelope<E> {
    EventEnvelope {
        schema_version: 1,
        event_id: EventId::new(),
        stream_id: stream,
        sequence,
        occurred_at: Utc::now(),
        command_id: CommandId::new(),
        causation_id: None,
        correlation_id: CorrelationId::new(),
        event,
    }
}

fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

fn opened(holder: &str) -> AccountEvent {
    AccountEvent::AccountOpened {
        holder: Holder::parse(holder).unwrap(),
        currency: eur(),
    }
}

fn deposited(amount: i64, after: i64) -> AccountEvent {
    AccountEvent::MoneyDeposited {
        amount: Amount::new(amount).unwrap(),
        balance_after: Money::new(after),
    }
}

fn withdrawn(amount: i64, after: i64) -> AccountEvent {
    AccountEvent::MoneyWithdrawn {
        amount: Amount::new(amount).unwrap(),
        balance_after: Money::new(after),
    }
}

/// Accounts a, b, c; a transfer a→b that completes and one a→c that fails.
/// Returns (a, b, c, completed transfer, failed transfer).
async fn scenario(writer: &Writer) -> (AccountId, AccountId, AccountId, TransferId, TransferId) {
    let (a, b, c) = (AccountId::new(), AccountId::new(), AccountId::new());
    let (t1, t2) = (TransferId::new(), TransferId::new());
    writer.account(a, 1, opened("Ann")).await;
    writer.account(a, 2, deposited(500, 500)).await;
    writer.account(a, 3, withdrawn(200, 300)).await;
    writer.account(b, 1, opened("Bo")).await;
    writer.account(c, 1, opened("Cy")).await;
    writer.account(c, 2, AccountEvent::AccountClosed {}).await;
    writer
        .account(
            a,
            4,
            AccountEvent::TransferDebited {
                transfer_id: t1,
                to: b,
                amount: Amount::new(100).unwrap(),
                currency: eur(),
                balance_after: Money::new(200),
            },
        )
        .await;
    writer
        .account(
            b,
            2,
            AccountEvent::TransferCredited {
                transfer_id: t1,
                from: a,
                amount: Amount::new(100).unwrap(),
                balance_after: Money::new(100),
            },
        )
        .await;
    writer
        .transfer(
            t1,
            1,
            TransferEvent::TransferCompleted {
                from: a,
                to: b,
                amount: Amount::new(100).unwrap(),
                currency: eur(),
            },
        )
        .await;
    writer
        .account(
            a,
            5,
            AccountEvent::TransferDebited {
                transfer_id: t2,
                to: c,
                amount: Amount::new(50).unwrap(),
                currency: eur(),
                balance_after: Money::new(150),
            },
        )
        .await;
    writer
        .account(
            a,
            6,
            AccountEvent::TransferRefunded {
                transfer_id: t2,
                amount: Amount::new(50).unwrap(),
                reason: TransferFailureReason::AccountClosed,
                balance_after: Money::new(200),
            },
        )
        .await;
    writer
        .transfer(
            t2,
            1,
            TransferEvent::TransferFailed {
                from: a,
                to: c,
                amount: Amount::new(50).unwrap(),
                currency: eur(),
                reason: TransferFailureReason::AccountClosed,
            },
        )
        .await;
    (a, b, c, t1, t2)
}

async fn snapshot(running: &Running) -> Vec<AccountView> {
    let mut accounts = running.app_store.scan_accounts().await.expect("scan");
    accounts.sort_by(|x, y| x.account_id.cmp(&y.account_id));
    accounts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_match_the_events_and_gaps_poison_and_waits_behave() {
    let isolation = Isolation::new("views");
    let settings = settings(&isolation, "projector");
    let running = Running::start(settings.clone()).await;
    let writer = Writer::new(&settings);
    running.wait_ready().await;

    let (a, b, c, t1, t2) = scenario(&writer).await;

    // Poison on account-events, then a gap on account d, then more events.
    writer
        .raw(&writer.accounts, &wire::encode_key(a), b"{not json")
        .await;
    let d = AccountId::new();
    writer.account(d, 1, opened("Di")).await;
    writer.account(d, 3, deposited(10, 10)).await; // gap: 2 is missing
    writer.account(d, 4, deposited(10, 20)).await; // held back
    writer.account(a, 7, deposited(1, 201)).await; // after the poison
    let t3 = TransferId::new();
    writer
        .transfer(
            t3,
            2, // gap: a transfer stream starts at 1
            TransferEvent::TransferCompleted {
                from: a,
                to: b,
                amount: Amount::new(1).unwrap(),
                currency: eur(),
            },
        )
        .await;

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
        let text = reqwest::get(format!("{}/metrics", running.base))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        (text.contains("outcome=\"gap\"") && text.contains("outcome=\"stalled\"")).then_some(())
    })
    .await;
    let (_, _, again) = running.get(&format!("/accounts/{d}")).await;
    assert_eq!(again["version"], 1, "{view_d}");
    assert_eq!(again["balance"], 0);
    let stalled = running.app_store.stalled_accounts().await.unwrap();
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
        let text = reqwest::get(format!("{}/metrics", running.base))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.lines()
            .any(|l| l.contains(&writer.transfers) && l.contains("outcome=\"gap\""))
            .then_some(())
    })
    .await;
    let (status, _, _) = running.get(&format!("/transfers/{t3}")).await;
    assert_eq!(status, 404, "a transfer event after a gap is not applied");
    let (status, _, err) = running
        .get(&format!("/transfers/{}", TransferId::new()))
        .await;
    assert_eq!(status, 404);
    assert_eq!(err["error"]["code"], "transfer_not_found");

    // History: newest first, paged with before.
    let (_, _, page) = running
        .get(&format!("/accounts/{a}/transactions?limit=3"))
        .await;
    let sequences: Vec<u64> = page["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sequence"].as_u64().unwrap())
        .collect();
    assert_eq!(sequences, vec![7, 6, 5]);
    assert_eq!(page["transactions"][1]["type"], "transfer_refunded");
    assert_eq!(page["transactions"][1]["reason"], "account_closed");
    let (_, _, page) = running
        .get(&format!("/accounts/{a}/transactions?limit=10&before=5"))
        .await;
    let sequences: Vec<u64> = page["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sequence"].as_u64().unwrap())
        .collect();
    assert_eq!(sequences, vec![4, 3, 2, 1]);
    assert_eq!(page["transactions"][1]["balance_after"], 300);

    // Errors.
    let (status, _, err) = running.get("/accounts/not-a-uuid").await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("invalid_account_id"))
    );
    let (status, _, err) = running.get(&format!("/accounts/{a}?min_version=x")).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("invalid_min_version"))
    );
    let (status, _, err) = running
        .get(&format!("/accounts/{}", AccountId::new()))
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (404, Some("account_not_found"))
    );

    // Index query agrees with a full scan.
    let all = snapshot(&running).await;
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
            let response = reqwest::get(url).await.unwrap();
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
    let dlq = settings.kafka.topics().dlq(TopicKind::AccountEvents);
    let letters = eventually("dead letter", LONG, || {
        let kafka = settings.kafka.clone();
        let dlq = dlq.clone();
        async move {
            let mut found = Vec::new();
            for partition in 0..kafka.topics.partitions {
                found
                    .extend(read_partition(&kafka, &dlq, partition, Duration::from_secs(10)).ok()?);
            }
            (!found.is_empty()).then_some(found)
        }
    })
    .await;
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].payload.as_deref(), Some(&b"{not json"[..]));
    let letter = DeadLetter::from_headers(
        letters[0]
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), String::from_utf8_lossy(v).into_owned())),
    )
    .expect("dead-letter headers");
    assert_eq!(letter.source_topic, writer.accounts);
    assert!(letter.reason.contains("invalid JSON"), "{}", letter.reason);

    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_and_replay_change_nothing() {
    let isolation = Isolation::new("replay");
    let settings = settings(&isolation, "projector");
    let running = Running::start(settings.clone()).await;
    let writer = Writer::new(&settings);
    let (a, b, _c, _t1, t2) = scenario(&writer).await;
    running.wait_version(a, 6).await;
    running.wait_version(b, 2).await;
    let before = snapshot(&running).await;
    let (_, _, history_before) = running
        .get(&format!("/accounts/{a}/transactions?limit=100"))
        .await;
    running.stop().await;

    // Restart from the committed offsets, then one more event.
    let running = Running::start(settings.clone()).await;
    running.wait_ready().await;
    assert_eq!(snapshot(&running).await, before);
    writer.account(b, 3, deposited(5, 105)).await;
    running.wait_version(b, 3).await;
    let text = reqwest::get(format!("{}/metrics", running.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("eventbank_projector_events_total") && l.contains("skipped")),
        "the restart re-read committed events: {text}"
    );
    running.stop().await;
    let after_restart = {
        let r = Running::start(settings.clone()).await;
        let s = snapshot(&r).await;
        r.stop().await;
        s
    };

    // Replay everything from offset 0 (a fresh consumer group) into the same keyspace.
    let replay = Running::start(self::settings(&isolation, "replay-group")).await;
    replay.wait_ready().await;
    eventually("replay skipped every event", LONG, || async {
        let text = reqwest::get(format!("{}/metrics", replay.base))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        let skipped: u64 = text
            .lines()
            .filter(|l| l.starts_with("eventbank_projector_events_total") && l.contains("skipped"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum();
        // 12 account/transfer events of the scenario + 1 deposit.
        (skipped == 13).then_some(())
    })
    .await;
    let replayed = snapshot(&replay).await;
    assert_eq!(replayed, after_restart);
    let (_, _, history_after) = replay
        .get(&format!("/accounts/{a}/transactions?limit=100"))
        .await;
    assert_eq!(history_after, history_before);
    let (_, _, t) = replay.get(&format!("/transfers/{t2}")).await;
    assert_eq!(t["status"], "failed");
    let text = reqwest::get(format!("{}/metrics", replay.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("eventbank_projector_events_total") && l.contains("applied")),
        "a replay applied something: {text}"
    );
    replay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuild_into_a_fresh_generation_and_switch() {
    let isolation = Isolation::new("rebuild");
    let settings = settings(&isolation, "projector");
    let running = Running::start(settings.clone()).await;
    let writer = Writer::new(&settings);
    let (a, b, _c, _t1, t2) = scenario(&writer).await;
    running.wait_version(a, 6).await;
    running.wait_version(b, 2).await;
    let intact = snapshot(&running).await;
    let (_, _, generation) = running.get("/admin/generation").await;
    assert_eq!(generation["current"], 1);

    // Damage generation 1: lose account b's view.
    let client = redis::Client::open(TestEnv::get().redis_url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: i64 = redis::cmd("DEL")
        .arg(format!("{}g1:acct:{b}", isolation.redis_prefix()))
        .query_async(&mut conn)
        .await
        .unwrap();
    let (status, _, _) = running.get(&format!("/accounts/{b}")).await;
    assert_eq!(status, 404);

    let response = reqwest::Client::new()
        .post(format!("{}/admin/rebuild", running.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["generation"], 2);
    // The old generation serves until the switch.
    let (status, _, view) = running.get(&format!("/accounts/{a}")).await;
    assert_eq!((status, view["version"].as_u64()), (200, Some(6)));

    eventually("switched to generation 2", LONG, || async {
        let (_, _, generation) = running.get("/admin/generation").await;
        (generation["current"] == 2).then_some(())
    })
    .await;
    let view_b = running.wait_version(b, 2).await;
    assert_eq!(view_b["balance"], 100);
    let rebuilt = {
        let store = running.app_store.at_generation(2);
        let mut accounts = store.scan_accounts().await.unwrap();
        accounts.sort_by(|x, y| x.account_id.cmp(&y.account_id));
        accounts
    };
    assert_eq!(rebuilt, intact);
    let (_, _, t) = running.get(&format!("/transfers/{t2}")).await;
    assert_eq!(t["reason"], "account_closed");

    // The serving projector follows the switch: new events land in generation 2.
    writer.account(a, 7, deposited(5, 205)).await;
    let view = running.wait_version(a, 7).await;
    assert_eq!(view["balance"], 205);
    running.stop().await;

    // A restart serves and continues generation 2 from its committed offsets.
    let running = Running::start(settings.clone()).await;
    running.wait_ready().await;
    writer.account(a, 8, deposited(5, 210)).await;
    let view = running.wait_version(a, 8).await;
    assert_eq!(view["balance"], 210);
    let text = reqwest::get(format!("{}/metrics", running.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("eventbank_projector_events_total") && l.contains("skipped")),
        "restart re-read committed events: {text}"
    );
    running.stop().await;
}
