//! The load the exactly-once tests put on the bank: concurrent deposits and
//! withdrawals from clients that each keep their own idempotency keys.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use eventbank_runtime::kafka::KafkaSettings;
use eventbank_testkit::bank::{BankClient, Reply};
use eventbank_testkit::{Isolation, TestEnv, eventually, metrics};
use futures::StreamExt;
use serde_json::json;
use tokio::task::JoinHandle;

pub(super) const COMMANDS: usize = 240;

/// Opens an account for each of `holders` and sends the workload over them
/// in the background; the count of settled commands grows in the first.
pub(super) async fn start_workload(
    client: &BankClient,
    holders: &[&str],
) -> (Arc<AtomicUsize>, JoinHandle<Vec<(String, Reply)>>) {
    let mut accounts = Vec::new();
    for holder in holders {
        accounts.push(client.open(holder, "EUR").await);
    }
    let done = Arc::new(AtomicUsize::new(0));
    let work = tokio::spawn(workload(client.clone(), accounts, Arc::clone(&done)));
    (done, work)
}

/// Sends `COMMANDS` deposits and withdrawals over `accounts`, eight at a
/// time, each with its own idempotency key, counting settled ones in `done`.
async fn workload(
    client: BankClient,
    accounts: Vec<String>,
    done: Arc<AtomicUsize>,
) -> Vec<(String, Reply)> {
    futures::stream::iter(0..COMMANDS)
        .map(|i| {
            let client = client.clone();
            let account = accounts[i % accounts.len()].clone();
            let done = Arc::clone(&done);
            async move {
                let (kind, amount) = if i % 4 == 3 {
                    ("withdrawals", 700)
                } else {
                    ("deposits", 300)
                };
                let reply = client
                    .settle(
                        &format!("/accounts/{account}/{kind}"),
                        Some(json!({"amount": amount})),
                        &format!("op-{i}"),
                    )
                    .await;
                done.fetch_add(1, Ordering::SeqCst);
                (account, reply)
            }
        })
        .buffer_unordered(8)
        .collect()
        .await
}

pub(super) fn shared_kafka(isolation: &Isolation) -> KafkaSettings {
    TestEnv::get().kafka_settings(&isolation.topic_prefix())
}

pub(super) async fn wait_for(done: &AtomicUsize, count: usize) {
    eventually("workload progress", Duration::from_secs(300), || async {
        (done.load(Ordering::SeqCst) >= count).then_some(())
    })
    .await;
}

/// Sum of every sample of the counter `name` on a service's `/metrics`.
pub(super) async fn counter(base_url: &str, name: &str) -> u64 {
    let text = metrics::scrape(base_url).await.expect("GET /metrics");
    metrics::sum(&text, name) as u64
}
