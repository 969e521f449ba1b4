//! The apply script against real Redis: a batch applied in one `Store::apply`
//! (sorted by stream, each account read once and written once per script
//! call) must leave exactly the keys that applying its events one at a time
//! leaves, answer the same outcome for every event, and change nothing when
//! applied again.
//!
//! The batch mixes what the projector meets: accounts opened and closed in
//! one call (the balance index moves), a debit that creates a pending
//! transfer, a gap and the events stalled behind it, an account whose first
//! event is not an opening, duplicates of events applied earlier, and one
//! account with more events than a script call takes, so its state crosses
//! from one call to the next.

use crate::common;

use std::collections::VecDeque;

use balance_projector::store::{Event, Outcome, Store};
use common::dump::{assert_same, dump};
use common::redis_connection;
use eventbank_events::testing::{completed, debited, deposited, envelope, opened, withdrawn};
use eventbank_events::{AccountEvent, AccountId, TransferId};
use eventbank_testkit::{Isolation, TestEnv};

fn account(id: AccountId, sequence: u64, event: AccountEvent) -> Event {
    Event::Account(envelope(id.into(), sequence, event))
}

/// Every stream of the scenario, each in its own order, and the events
/// applied before the batch.
fn streams() -> (Vec<Event>, Vec<Vec<Event>>) {
    let (a, b, c, d, e, f) = (
        AccountId::new(),
        AccountId::new(),
        AccountId::new(),
        AccountId::new(),
        AccountId::new(),
        AccountId::new(),
    );
    let transfer = TransferId::new();
    let before = vec![
        account(e, 1, opened("Eve")),
        account(e, 2, deposited(500, 500)),
    ];
    let mut many = vec![account(f, 1, opened("Fay"))];
    for sequence in 2..=300 {
        let balance = i64::try_from(sequence).unwrap() * 10;
        many.push(account(f, sequence, deposited(10, balance - 10)));
    }
    let streams = vec![
        vec![
            account(a, 1, opened("Ann")),
            account(a, 2, deposited(100, 100)),
            account(a, 3, withdrawn(100, 0)),
            account(a, 4, AccountEvent::AccountClosed {}),
        ],
        vec![
            account(b, 1, opened("Bob")),
            account(b, 2, deposited(50, 50)),
            account(b, 3, debited(transfer, a, 20, 30)),
            account(b, 4, deposited(5, 35)),
        ],
        vec![Event::Transfer(envelope(
            transfer.into(),
            1,
            completed(b, a, 20),
        ))],
        vec![
            account(c, 1, opened("Cid")),
            account(c, 2, deposited(10, 10)),
            account(c, 4, deposited(10, 30)),
            account(c, 5, deposited(10, 40)),
        ],
        vec![
            account(d, 1, deposited(10, 10)),
            account(d, 2, opened("Dan")),
        ],
        vec![
            account(e, 2, deposited(500, 500)),
            account(e, 3, withdrawn(200, 300)),
            account(e, 4, AccountEvent::AccountClosed {}),
        ],
        many,
    ];
    (before, streams)
}

/// The streams merged into one batch in an order `seed` picks, each stream's
/// own order kept (as partitions deliver them).
fn interleave(streams: Vec<Vec<Event>>, seed: u64) -> Vec<Event> {
    let mut queues: Vec<VecDeque<Event>> = streams.into_iter().map(VecDeque::from).collect();
    let mut state = seed;
    let mut batch = Vec::new();
    loop {
        let open: Vec<usize> = (0..queues.len())
            .filter(|&i| !queues[i].is_empty())
            .collect();
        if open.is_empty() {
            return batch;
        }
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let pick = open[usize::try_from(state >> 33).unwrap() % open.len()];
        batch.extend(queues[pick].pop_front());
    }
}

async fn store(prefix: &str) -> Store {
    Store::connect(&TestEnv::get().redis_url, prefix)
        .await
        .expect("connect to Redis")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_applies_exactly_as_its_events_one_by_one_and_once() {
    let isolation = Isolation::new("apply-batches");
    for seed in [1_u64, 7, 42] {
        let (before, streams) = streams();
        let batch = interleave(streams, seed);
        let prefix = format!("{}s{seed}:", isolation.redis_prefix());
        let (batched, single) = (
            store(&format!("{prefix}batched:")).await,
            store(&format!("{prefix}single:")).await,
        );
        let before: Vec<&Event> = before.iter().collect();
        batched.apply(&before).await.unwrap();
        single.apply(&before).await.unwrap();

        let events: Vec<&Event> = batch.iter().collect();
        let outcomes = batched.apply(&events).await.unwrap();
        let mut one_by_one = Vec::new();
        for event in &events {
            one_by_one.extend(single.apply(&[*event]).await.unwrap());
        }
        assert_eq!(
            outcomes, one_by_one,
            "seed {seed}: the same outcome per event"
        );
        let count = |wanted: Outcome| outcomes.iter().filter(|o| **o == wanted).count();
        assert_eq!(
            (
                count(Outcome::Skipped),
                count(Outcome::Gap),
                count(Outcome::Stalled),
                count(Outcome::Malformed)
            ),
            (1, 1, 2, 1),
            "seed {seed}: e's duplicate skipped; c's gap, then c's and d's later events held; d's bad start"
        );

        let after_once = dump(&format!("{prefix}batched:")).await;
        assert_same(&after_once, &dump(&format!("{prefix}single:")).await);
        let again = batched.apply(&events).await.unwrap();
        assert!(
            again
                .iter()
                .all(|o| matches!(o, Outcome::Skipped | Outcome::Stalled)),
            "seed {seed}: a batch applied again applies nothing: {again:?}"
        );
        assert_same(&after_once, &dump(&format!("{prefix}batched:")).await);
    }

    // Leave nothing behind in the shared Redis.
    let mut conn = redis_connection().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}*", isolation.redis_prefix()))
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: () = redis::cmd("DEL")
        .arg(&keys)
        .query_async(&mut conn)
        .await
        .unwrap();
}
