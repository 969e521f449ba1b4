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
//! answer (a refused connection, a 503, a 202 still pending); beside them,
//! `eventbank load --verify` (the CLI) with a ledger and checks of its own.

mod cli_load;
mod client;
mod instance;
mod ledger;
mod services;
mod views;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use eventbank_events::{AccountId, CommandId};
use eventbank_testkit::bank::BankClient;
use eventbank_testkit::log::{
    account_events, assert_streams_consistent, assert_transfers_settled_once, balance,
    transfer_events,
};
use eventbank_testkit::{Isolation, PrivateKafka, eventually};
use reqwest::StatusCode;
use serde_json::json;

use client::client;
use ledger::Ledger;
use views::{check_audit_trail, check_read_model};

const ACCOUNTS: usize = 6;
const OPENING: i64 = 10_000;
const CLIENTS: usize = 6;
/// How long a killed service stays down before it is started again.
const DOWN: Duration = Duration::from_secs(2);
/// Past the brokers' 9 s session with the controller: the frozen node is
/// fenced and its partitions' leadership moves.
const FROZEN: Duration = Duration::from_secs(20);
const SETTLE: Duration = Duration::from_secs(240);

async fn pause(duration: Duration) {
    tokio::time::sleep(duration).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn money_is_conserved_while_services_and_brokers_fail() {
    let started = Instant::now();
    let mut cluster = PrivateKafka::start(3).await;
    let isolation = Isolation::new("bank-faults");
    let kafka = cluster.kafka_settings(&isolation.topic_prefix());
    let logs = std::env::temp_dir().join(format!("eventbank-system-{}", isolation.run_id));
    std::fs::create_dir_all(&logs).expect("log directory");
    eprintln!("[faults] service logs in {}", logs.display());
    let mut services = services::configure(&kafka, &logs, &isolation);
    services::start_all(&mut services).await;
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
    // Through the kills, the broker faults and most of the rolling restart.
    let cli_load = cli_load::CliLoad::start(&services, Duration::from_secs(90), &logs);
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
    let cli_accounts = cli_load.finish().await;
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
    let cli_opened: Vec<AccountId> = cli_accounts
        .iter()
        .map(|id| AccountId::parse(id).expect("account id"))
        .collect();
    let strays: Vec<_> = streams
        .keys()
        .filter(|id| !opened.contains(id) && !cli_opened.contains(id))
        .collect();
    assert!(
        strays.is_empty(),
        "accounts nobody opened have events: {strays:?}"
    );

    // The read model shows the log's balances.
    let projector = services["balance-projector"].base();
    let http = eventbank_testkit::http::client();
    check_read_model(&http, &projector, &streams, &opened, &transfers).await;

    // The audit trail holds every event, its chains verify and reconcile.
    let audit = services["audit-log"].base();
    let events: usize = streams.values().map(Vec::len).sum();
    check_audit_trail(&http, &audit, events).await;
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
