//! Jepsen's bank test, run on the whole system: money moves through the
//! public HTTP API while services are SIGKILLed, a broker is SIGKILLed, a
//! broker is frozen past its session timeout, and everything is restarted in
//! turn; then the log, the read model and the audit trail must show that no
//! money was created or destroyed and every acknowledged command took effect
//! exactly once.
//!
//! A private 3-node KRaft cluster (replication 3, `min.insync.replicas` 2),
//! two instances each of account-command (API and processor) and of the
//! saga, one projector, one audit log; six clients, each pinned to one API
//! instance, retrying with the same `Idempotency-Key` after every ambiguous
//! answer (a refused connection, a 503, a 202 still pending).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use eventbank_events::{AccountId, CommandId, TransferId};
use eventbank_runtime::kafka::KafkaSettings;
use eventbank_runtime::kafka::transactional::STUCK_CALL_EXIT_CODE;
use eventbank_testkit::bank::{BankClient, Reply};
use eventbank_testkit::log::{
    account_events, assert_streams_consistent, assert_transfers_settled_once, balance,
    transfer_events,
};
use eventbank_testkit::process::{ServiceProcess, kafka_env};
use eventbank_testkit::{Isolation, PrivateKafka, TestEnv, eventually};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ACCOUNTS: usize = 6;
const OPENING: i64 = 10_000;
const CLIENTS: usize = 6;
/// How long a killed service stays down before it is started again.
const DOWN: Duration = Duration::from_secs(2);
/// Past the brokers' 9 s session with the controller: the frozen node is
/// fenced and its partitions' leadership moves.
const FROZEN: Duration = Duration::from_secs(20);
const SETTLE: Duration = Duration::from_secs(240);

/// A service binary built next to this test (`cargo test --workspace` builds
/// every service's binary for its own tests).
fn binary(name: &str) -> String {
    let exe = std::env::current_exe().expect("test executable");
    let dir: PathBuf = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir")
        .to_path_buf();
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the services first (cargo build --bins; the test command builds the workspace)",
        path.display()
    );
    path.display().to_string()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port()
}

/// One service instance, restartable on the same port and identity.
struct Instance {
    binary: String,
    name: String,
    port: u16,
    env: Vec<(String, String)>,
    log: PathBuf,
    process: Option<ServiceProcess>,
}

impl Instance {
    fn new(
        service: &str,
        name: &str,
        kafka: &KafkaSettings,
        logs: &std::path::Path,
        extra: &[(&str, String)],
    ) -> Self {
        let port = free_port();
        let mut env = kafka_env(kafka);
        env.extend(
            [
                ("EVENTBANK_INSTANCE", name.to_owned()),
                ("EVENTBANK_HTTP__BIND", format!("127.0.0.1:{port}")),
                (
                    "EVENTBANK_TELEMETRY__LOG_FILTER",
                    // `EVENTBANK_SYSTEM_TEST_LOG_FILTER=info` to see more of a failed run.
                    std::env::var("EVENTBANK_SYSTEM_TEST_LOG_FILTER")
                        .unwrap_or_else(|_| "warn".to_owned()),
                ),
                ("EVENTBANK_TELEMETRY__LOG_FORMAT", "json".to_owned()),
            ]
            .iter()
            .chain(extra)
            .map(|(k, v)| ((*k).to_owned(), v.clone())),
        );
        Self {
            binary: binary(service),
            name: name.to_owned(),
            port,
            env,
            log: logs.join(format!("{name}.log")),
            process: None,
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn start(&mut self) {
        assert!(self.process.is_none(), "{} already running", self.name);
        self.process = Some(ServiceProcess::spawn_logged(
            &self.binary,
            &self.name,
            self.env.clone(),
            &self.log,
        ));
    }

    fn kill(&mut self) {
        eprintln!("[faults] SIGKILL {}", self.name);
        self.process.take().expect("running").kill();
    }

    /// SIGTERM and start again. A stop that is not clean (the stuck-call
    /// watchdog's exit 70, or an error) is recorded with its log's last
    /// lines and reported at the end: the bank's invariants are what this
    /// test holds the system to; clean stops are the ops tests' subject.
    async fn restart(&mut self, unclean: &mut Vec<String>) {
        eprintln!("[faults] rolling restart of {}", self.name);
        let status = self
            .process
            .take()
            .expect("running")
            .stop(Duration::from_secs(150))
            .await;
        if !status.success() {
            let tail = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(8).collect();
            let why = if status.code() == Some(STUCK_CALL_EXIT_CODE) {
                "the stuck-call watchdog".to_owned()
            } else {
                status.to_string()
            };
            eprintln!(
                "[faults] {} did not stop cleanly ({why}); last log lines, newest first:\n  {}",
                self.name,
                tail.join("\n  ")
            );
            unclean.push(format!("{}: {why}", self.name));
        }
        self.start();
    }

    async fn healthy(&self) {
        let url = format!("{}/healthz", self.base());
        eventually(
            &format!("{} answering", self.name),
            Duration::from_secs(120),
            || async {
                reqwest::get(&url)
                    .await
                    .ok()
                    .filter(|r| r.status().is_success())
                    .map(|_| ())
            },
        )
        .await;
    }
}

/// What the clients were told, to check the bank against.
#[derive(Default)]
struct Ledger {
    deposited: AtomicU64,
    withdrawn: AtomicU64,
    /// Every acknowledged command (deposit, withdrawal, transfer debit).
    accepted: std::sync::Mutex<Vec<CommandId>>,
    rejected: std::sync::Mutex<Vec<CommandId>>,
    transfers: std::sync::Mutex<Vec<TransferId>>,
}

impl Ledger {
    fn to_json(&self, accounts: &[String], faults: &BTreeMap<&str, usize>) -> Value {
        let ids = |list: &std::sync::Mutex<Vec<CommandId>>| -> Vec<String> {
            list.lock()
                .unwrap()
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        serde_json::json!({
            "accounts": accounts,
            "deposited": self.deposited.load(Ordering::SeqCst),
            "withdrawn": self.withdrawn.load(Ordering::SeqCst),
            "accepted": ids(&self.accepted),
            "rejected": ids(&self.rejected),
            "transfers": self.transfers.lock().unwrap().iter().map(ToString::to_string).collect::<Vec<_>>(),
            "faults": faults,
        })
    }
}

/// A pseudo-random number per (client, step): no shared generator, the same
/// sequence on every run.
fn pick(client: usize, step: u64, salt: u64, below: u64) -> u64 {
    let mut x = (client as u64 + 1)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(step.wrapping_mul(0xBF58_476D_1CE4_E5B9))
        .wrapping_add(salt.wrapping_mul(0x94D0_49BB_1331_11EB));
    x ^= x >> 31;
    x = x.wrapping_mul(0xD6E8_FEB8_6659_FD93);
    x ^= x >> 29;
    x % below
}

fn command_id(reply: &Reply) -> CommandId {
    reply
        .command_id
        .as_deref()
        .and_then(|id| CommandId::parse(id).ok())
        .unwrap_or_else(|| panic!("a final reply names its command: {reply:?}"))
}

async fn client(
    id: usize,
    bank: BankClient,
    accounts: Arc<Vec<String>>,
    ledger: Arc<Ledger>,
    stop: Arc<AtomicBool>,
    run: String,
) -> u64 {
    let mut step = 0_u64;
    while !stop.load(Ordering::SeqCst) {
        step += 1;
        let key = format!("{run}-c{id}-{step}");
        let account = &accounts[pick(id, step, 1, ACCOUNTS as u64) as usize];
        let amount = 1 + pick(id, step, 2, 900) as i64;
        match step % 5 {
            0 | 1 => {
                let reply = bank
                    .settle(
                        &format!("/accounts/{account}/deposits"),
                        Some(json!({"amount": amount})),
                        &key,
                    )
                    .await;
                assert_eq!(reply.status, StatusCode::OK, "deposit: {reply:?}");
                ledger.deposited.fetch_add(amount as u64, Ordering::SeqCst);
                ledger.accepted.lock().unwrap().push(command_id(&reply));
            }
            2 => {
                let reply = bank
                    .settle(
                        &format!("/accounts/{account}/withdrawals"),
                        Some(json!({"amount": amount})),
                        &key,
                    )
                    .await;
                match reply.status {
                    StatusCode::OK => {
                        ledger.withdrawn.fetch_add(amount as u64, Ordering::SeqCst);
                        ledger.accepted.lock().unwrap().push(command_id(&reply));
                    }
                    StatusCode::UNPROCESSABLE_ENTITY => {
                        assert_eq!(reply.code(), "insufficient_funds", "{reply:?}");
                        ledger.rejected.lock().unwrap().push(command_id(&reply));
                    }
                    other => panic!("withdrawal answered {other}: {reply:?}"),
                }
            }
            _ => {
                // Every fourth transfer goes to an account nobody opened: it
                // fails at the credit and the source is refunded.
                let to = if pick(id, step, 3, 4) == 0 {
                    AccountId::new().to_string()
                } else {
                    let other = pick(id, step, 4, ACCOUNTS as u64 - 1) as usize;
                    let from_index = accounts.iter().position(|a| a == account).unwrap_or(0);
                    accounts[(from_index + 1 + other) % ACCOUNTS].clone()
                };
                let reply = bank
                    .settle(
                        "/transfers",
                        Some(json!({"from": account, "to": to, "amount": amount})),
                        &key,
                    )
                    .await;
                match reply.status {
                    // 202 at once; 200 `accepted` when the answer came from
                    // following a pending one to `GET /commands/{id}`.
                    StatusCode::ACCEPTED | StatusCode::OK => {
                        let transfer = reply.body["transfer_id"]
                            .as_str()
                            .and_then(|id| TransferId::parse(id).ok())
                            .unwrap_or_else(|| panic!("transfer id: {reply:?}"));
                        ledger.transfers.lock().unwrap().push(transfer);
                        ledger.accepted.lock().unwrap().push(command_id(&reply));
                    }
                    StatusCode::UNPROCESSABLE_ENTITY => {
                        assert_eq!(reply.code(), "insufficient_funds", "{reply:?}");
                        ledger.rejected.lock().unwrap().push(command_id(&reply));
                    }
                    other => panic!("transfer answered {other}: {reply:?}"),
                }
            }
        }
    }
    step
}

async fn pause(duration: Duration) {
    tokio::time::sleep(duration).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn money_is_conserved_while_services_and_brokers_fail() {
    let started = Instant::now();
    let mut cluster = PrivateKafka::start(3).await;
    let isolation = Isolation::new("bank-faults");
    let kafka = cluster.kafka_settings(&isolation.topic_prefix());
    let env = TestEnv::get();
    let logs = std::env::temp_dir().join(format!("eventbank-system-{}", isolation.run_id));
    std::fs::create_dir_all(&logs).expect("log directory");
    eprintln!("[faults] service logs in {}", logs.display());
    let saga_timing = [
        ("EVENTBANK_SAGA__RETRY_AFTER_MS", "2000".to_owned()),
        ("EVENTBANK_SAGA__CREDIT_DEADLINE_MS", "20000".to_owned()),
    ];
    let mut services: BTreeMap<&str, Instance> = BTreeMap::new();
    for name in ["account-command-0", "account-command-1"] {
        services.insert(
            name,
            Instance::new("account-command", name, &kafka, &logs, &[]),
        );
    }
    for name in ["transfer-saga-0", "transfer-saga-1"] {
        services.insert(
            name,
            Instance::new("transfer-saga", name, &kafka, &logs, &saga_timing),
        );
    }
    services.insert(
        "balance-projector",
        Instance::new(
            "balance-projector",
            "balance-projector",
            &kafka,
            &logs,
            &[
                ("EVENTBANK_REDIS__URL", env.redis_url.clone()),
                ("EVENTBANK_REDIS__KEY_PREFIX", isolation.redis_prefix()),
            ],
        ),
    );
    services.insert(
        "audit-log",
        Instance::new(
            "audit-log",
            "audit-log",
            &kafka,
            &logs,
            &[
                ("EVENTBANK_POSTGRES__URL", env.postgres_url.clone()),
                ("EVENTBANK_POSTGRES__SCHEMA", isolation.pg_schema()),
            ],
        ),
    );
    // account-command first: it creates the topics the others wait for.
    services.get_mut("account-command-0").unwrap().start();
    services["account-command-0"].healthy().await;
    for instance in services.values_mut() {
        if instance.process.is_none() {
            instance.start();
        }
    }
    for instance in services.values() {
        instance.healthy().await;
    }
    let apis = [
        BankClient::new(services["account-command-0"].base()),
        BankClient::new(services["account-command-1"].base()),
    ];
    let mut accounts = Vec::new();
    for n in 0..ACCOUNTS {
        let id = apis[n % 2].open(&format!("holder-{n}"), "EUR").await;
        let reply = apis[n % 2]
            .settle(
                &format!("/accounts/{id}/deposits"),
                Some(json!({"amount": OPENING})),
                &format!("{}-opening-{n}", isolation.run_id),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        accounts.push(id);
    }
    eprintln!("[faults] system up after {:?}", started.elapsed());

    let accounts = Arc::new(accounts);
    let ledger = Arc::new(Ledger::default());
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| {
            tokio::spawn(client(
                id,
                apis[id % 2].clone(),
                Arc::clone(&accounts),
                Arc::clone(&ledger),
                Arc::clone(&stop),
                isolation.run_id.clone(),
            ))
        })
        .collect();

    // The schedule. Each service is killed and restarted in turn.
    let mut faults: BTreeMap<&str, usize> = BTreeMap::new();
    for name in [
        "account-command-0",
        "transfer-saga-0",
        "balance-projector",
        "audit-log",
        "account-command-1",
        "transfer-saga-1",
    ] {
        pause(Duration::from_secs(4)).await;
        let instance = services.get_mut(name).unwrap();
        instance.kill();
        *faults.entry("service SIGKILL + restart").or_default() += 1;
        pause(DOWN).await;
        instance.start();
    }
    pause(Duration::from_secs(4)).await;
    eprintln!("[faults] SIGKILL broker node 2");
    cluster.kill(1);
    *faults.entry("broker SIGKILL + restart").or_default() += 1;
    pause(Duration::from_secs(10)).await;
    tokio::task::block_in_place(|| cluster.restart(1));
    eprintln!("[faults] broker node 2 back");
    pause(Duration::from_secs(5)).await;
    eprintln!("[faults] SIGSTOP broker node 3 for {FROZEN:?}");
    cluster.pause(2);
    *faults
        .entry("broker SIGSTOP past its session, SIGCONT")
        .or_default() += 1;
    pause(FROZEN).await;
    cluster.resume(2);
    eprintln!("[faults] SIGCONT broker node 3");
    pause(Duration::from_secs(5)).await;
    let mut unclean = Vec::new();
    for instance in services.values_mut() {
        instance.restart(&mut unclean).await;
        *faults.entry("rolling restart (SIGTERM)").or_default() += 1;
        instance.healthy().await;
    }
    pause(Duration::from_secs(5)).await;
    stop.store(true, Ordering::SeqCst);
    let mut steps = 0;
    for client in clients {
        steps += client.await.expect("client");
    }
    eprintln!(
        "[faults] workload of {steps} operations done after {:?}; faults injected: {faults:?}",
        started.elapsed()
    );
    // The client-side record, kept beside the service logs before anything
    // is checked, so a failed run leaves what the clients were told.
    let record = logs.join("workload.json");
    std::fs::write(&record, ledger.to_json(&accounts, &faults).to_string())
        .expect("write the workload record");
    eprintln!("[faults] workload record in {}", record.display());

    // Settle: every accepted transfer ends, then the three views agree.
    let transfers = ledger.transfers.lock().unwrap().clone();
    eventually("every accepted transfer ended", SETTLE, || async {
        let ended = transfer_events(&kafka).await;
        transfers
            .iter()
            .all(|id| ended.contains_key(id))
            .then_some(())
    })
    .await;
    let streams = account_events(&kafka).await;
    assert_streams_consistent(&streams);
    let ended = transfer_events(&kafka).await;
    assert_transfers_settled_once(&ended, &streams);

    let mut effects: HashMap<CommandId, usize> = HashMap::new();
    for envelope in streams.values().flatten() {
        *effects.entry(envelope.command_id).or_default() += 1;
        if let Some(after) = envelope.event.balance_after() {
            assert!(
                after.minor_units() >= 0,
                "a balance went below zero: {envelope:?}"
            );
        }
    }
    let accepted = ledger.accepted.lock().unwrap().clone();
    for command in &accepted {
        assert_eq!(
            effects.get(command),
            Some(&1),
            "accepted command {command} has one effect"
        );
    }
    for command in ledger.rejected.lock().unwrap().iter() {
        assert_eq!(
            effects.get(command),
            None,
            "rejected command {command} has no effect"
        );
    }

    let opened: Vec<AccountId> = accounts
        .iter()
        .map(|id| AccountId::parse(id).expect("account id"))
        .collect();
    let total: i64 = opened.iter().map(|id| balance(&streams[id])).sum();
    let expected = ACCOUNTS as i64 * OPENING + ledger.deposited.load(Ordering::SeqCst) as i64
        - ledger.withdrawn.load(Ordering::SeqCst) as i64;
    assert_eq!(total, expected, "money created or destroyed");
    let strays: Vec<_> = streams.keys().filter(|id| !opened.contains(id)).collect();
    assert!(
        strays.is_empty(),
        "accounts nobody opened have events: {strays:?}"
    );

    // The read model shows the log's balances.
    let projector = services["balance-projector"].base();
    let http = reqwest::Client::new();
    // A projector restarted late in the schedule may still be catching up:
    // the view must reach the log's version (and then show its balance)
    // within the settle time, not within one read's wait.
    for id in &opened {
        let stream = &streams[id];
        let url = format!("{projector}/accounts/{id}?min_version={}", stream.len());
        let view: Value = eventually(
            &format!("read model of {id} at version {}", stream.len()),
            SETTLE,
            || async {
                let view: Value = http.get(&url).send().await.ok()?.json().await.ok()?;
                (view["behind"] == false).then_some(view)
            },
        )
        .await;
        assert_eq!(
            view["balance"],
            balance(stream),
            "read model of {id}: {view}"
        );
    }
    for id in &transfers {
        let view: Value = http
            .get(format!("{projector}/transfers/{id}"))
            .send()
            .await
            .expect("transfer view")
            .json()
            .await
            .expect("json");
        let status = view["status"].as_str().unwrap_or_default().to_owned();
        assert!(
            status == "completed" || status == "failed",
            "transfer {id} is {view}"
        );
    }

    // The audit trail holds every event, its chains verify and reconcile.
    let audit = services["audit-log"].base();
    let events: usize = streams.values().map(Vec::len).sum();
    let reconciled = eventually("the audit log caught up", SETTLE, || async {
        let report: Value = http
            .get(format!("{audit}/audit/reconcile"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (report["events_checked"].as_u64() == Some(events as u64)).then_some(report)
    })
    .await;
    assert_eq!(reconciled["ok"], true, "{reconciled}");
    let verified: Value = http
        .get(format!("{audit}/audit/verify"))
        .send()
        .await
        .expect("verify")
        .json()
        .await
        .expect("json");
    assert_eq!(verified["ok"], true, "{verified}");
    eprintln!(
        "[faults] violations: 0 — {} accepted commands, {} transfers ({} failed), {events} events, \
         money conserved; stops that were not clean: {unclean:?}; {:?} in all",
        accepted.len(),
        transfers.len(),
        ended
            .values()
            .filter(|e| matches!(
                e.as_slice(),
                [eventbank_events::TransferEvent::TransferFailed { .. }]
            ))
            .count(),
        started.elapsed()
    );
    for instance in services.values_mut() {
        if let Some(process) = instance.process.take() {
            let status = process.stop(Duration::from_secs(60)).await;
            eprintln!("[faults] {} stopped: {status}", instance.name);
        }
    }
}
