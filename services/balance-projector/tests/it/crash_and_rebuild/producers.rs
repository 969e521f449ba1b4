//! Streams written in the background while a test crashes, stops or rebuilds
//! the projector, and the wait for a view to show how they ended.

use std::sync::Arc;

use balance_projector::Settings;
use balance_projector::store::Store;
use eventbank_events::AccountId;
use eventbank_testkit::{RecordWriter, eventually};
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::streams::{Pace, StreamEnd, stream};
use crate::common::LONG;

const ACCOUNTS: usize = 20;

/// Background producers, one task per account; stopped on drop.
pub(super) struct Producers {
    writer: Arc<RecordWriter>,
    stop: CancellationToken,
    _stop_on_drop: DropGuard,
    tasks: Vec<JoinHandle<StreamEnd>>,
}

impl Producers {
    pub(super) fn start(settings: &Settings, events_per_account: u64, pace: Pace) -> Self {
        let writer = Arc::new(RecordWriter::new(&settings.kafka));
        let accounts: Vec<AccountId> = (0..ACCOUNTS).map(|_| AccountId::new()).collect();
        let stop = CancellationToken::new();
        let tasks = accounts
            .iter()
            .enumerate()
            .map(|(index, account)| {
                tokio::spawn(stream(
                    Arc::clone(&writer),
                    index,
                    accounts.clone(),
                    *account,
                    events_per_account,
                    pace,
                    stop.clone(),
                ))
            })
            .collect();
        Self {
            writer,
            _stop_on_drop: stop.clone().drop_guard(),
            stop,
            tasks,
        }
    }

    pub(super) fn produced(&self) -> u64 {
        self.writer.produced()
    }

    pub(super) async fn wait_for_backlog(&self, records: u64) {
        eventually("a backlog", LONG, || async {
            (self.produced() >= records).then_some(())
        })
        .await;
    }

    pub(super) fn finished(&self) -> bool {
        self.tasks.iter().all(JoinHandle::is_finished)
    }

    /// Waits for every stream to end (after `stop`, if asked to); returns
    /// their ends and how many records were produced in all.
    pub(super) async fn finish(self, stop: bool) -> (Vec<StreamEnd>, u64) {
        if stop {
            self.stop.cancel();
        }
        let mut ends = Vec::new();
        for task in self.tasks {
            ends.push(
                tokio::time::timeout(LONG, task)
                    .await
                    .expect("producer finishes")
                    .expect("producer did not panic"),
            );
        }
        (ends, self.writer.produced())
    }
}

/// Waits until `store` (at its generation) shows every stream at its end.
pub(super) async fn wait_for_ends(what: &str, store: &Store, ends: &[StreamEnd]) {
    eventually(what, LONG, || async {
        for end in ends {
            let account = store.account(&end.account.to_string()).await.ok()??;
            if account.version != end.version {
                return None;
            }
            if end.stalled
                && !store
                    .stalled_accounts()
                    .await
                    .ok()?
                    .contains_key(&end.account.to_string())
            {
                return None;
            }
            for transfer in &end.transfers {
                let view = store.transfer(&transfer.to_string()).await.ok()??;
                if view.status == "pending" {
                    return None;
                }
            }
        }
        Some(())
    })
    .await;
}
