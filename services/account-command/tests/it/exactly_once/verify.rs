//! The exactly-once verdict: the log against what the clients were told, and
//! the restored state against the log.

use std::collections::{BTreeMap, HashMap};

use eventbank_events::{AccountId, CommandId};
use eventbank_runtime::kafka::KafkaSettings;
use eventbank_testkit::bank::{BankClient, Reply};
use eventbank_testkit::log::{account_events, assert_streams_consistent};
use reqwest::StatusCode;
use serde_json::json;

/// Checks the log against what the clients were told.
pub(super) async fn verify(
    kafka: &KafkaSettings,
    client: &BankClient,
    replies: &[(String, Reply)],
) {
    let streams = account_events(kafka).await;
    assert_streams_consistent(&streams);

    let mut effects: HashMap<CommandId, usize> = HashMap::new();
    for event in streams.values().flatten() {
        *effects.entry(event.command_id).or_default() += 1;
    }
    let mut accepted_per_account: BTreeMap<String, usize> = BTreeMap::new();
    for (account, reply) in replies {
        let command_id = reply
            .command_id
            .as_deref()
            .and_then(|id| CommandId::parse(id).ok())
            .unwrap_or_else(|| panic!("a final reply names its command: {reply:?}"));
        match reply.status {
            StatusCode::OK => {
                assert_eq!(
                    effects.get(&command_id),
                    Some(&1),
                    "accepted command {command_id} has exactly one event"
                );
                *accepted_per_account.entry(account.clone()).or_default() += 1;
            }
            StatusCode::UNPROCESSABLE_ENTITY => {
                assert_eq!(reply.code(), "insufficient_funds", "{reply:?}");
                assert_eq!(
                    effects.get(&command_id),
                    None,
                    "rejected command {command_id} has no event"
                );
            }
            other => panic!("unexpected final status {other}: {reply:?}"),
        }
    }
    for (account, accepted) in &accepted_per_account {
        let stream = &streams[&AccountId::parse(account).expect("id")];
        assert_eq!(
            stream.len(),
            accepted + 1,
            "{account}: open + one event per accepted command"
        );
    }

    // The state the processor restored after the crashes is the log's state:
    // one more deposit lands on exactly the sum of the events.
    for (id, stream) in &streams {
        let last = stream
            .iter()
            .rev()
            .find_map(|e| e.event.balance_after())
            .map_or(0, |b| b.minor_units());
        let reply = client
            .settle(
                &format!("/accounts/{id}/deposits"),
                Some(json!({"amount": 1})),
                &format!("final-{id}"),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        assert_eq!(
            reply.body["balance"].as_i64(),
            Some(last + 1),
            "restored balance of {id}"
        );
        assert_eq!(
            reply.body["version"].as_u64(),
            Some(stream.len() as u64 + 1),
            "restored version of {id}"
        );
    }
}
