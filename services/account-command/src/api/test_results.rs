//! Command results for the API's unit tests, which need an accepted outcome
//! to cache, wait for or render.

use chrono::Utc;
use eventbank_events::{AccountId, CommandId, CommandOutcome, CommandResult, CorrelationId, Money};

/// `command_id` accepted on `account_id` just now, leaving it at `version`
/// with `balance`.
pub(crate) fn accepted(
    command_id: CommandId,
    account_id: AccountId,
    version: u64,
    balance: i64,
) -> CommandResult {
    CommandResult::new(
        command_id,
        account_id,
        CorrelationId::new(),
        Utc::now(),
        CommandOutcome::Accepted {
            version,
            balance: Money::new(balance),
            events: Vec::new(),
        },
    )
}
