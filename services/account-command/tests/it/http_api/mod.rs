//! Every endpoint of the command API, success and error paths, over real HTTP
//! against the real broker with the processor running.

mod account_lifecycle;
mod bad_input;
mod transfers_and_results;

use crate::common::{Running, settings};
use eventbank_testkit::Isolation;
use eventbank_testkit::bank::BankClient;

/// A bank of its own (API and processor in-process) and a client for it.
pub(super) async fn bank(name: &str) -> (Isolation, Running, BankClient) {
    let isolation = Isolation::new(name);
    let running = Running::start(settings(&isolation, true, true, "p0")).await;
    let client = BankClient::new(running.base_url());
    (isolation, running, client)
}
