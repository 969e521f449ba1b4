//! One client of the bank: deposits, withdrawals and transfers on a fixed
//! pseudo-random schedule, each settled through every ambiguous answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use eventbank_events::{AccountId, CommandId, TransferId};
use eventbank_testkit::bank::{BankClient, Reply};
use reqwest::StatusCode;
use serde_json::json;

use super::ACCOUNTS;
use super::ledger::Ledger;

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

pub(super) async fn client(
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
        let cash = |kind: &str| {
            let path = format!("/accounts/{account}/{kind}");
            let (bank, key) = (&bank, &key);
            async move {
                bank.settle(&path, Some(json!({"amount": amount})), key)
                    .await
            }
        };
        match step % 5 {
            0 | 1 => {
                let reply = cash("deposits").await;
                assert_eq!(reply.status, StatusCode::OK, "deposit: {reply:?}");
                ledger.deposited.fetch_add(amount as u64, Ordering::SeqCst);
                ledger.accepted.lock().unwrap().push(command_id(&reply));
            }
            2 => {
                let reply = cash("withdrawals").await;
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
