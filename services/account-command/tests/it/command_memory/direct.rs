//! Commands written straight to `account-commands`, past the API and its
//! cache, and the results the processor gives them.

use std::time::Duration;

use chrono::Utc;
use eventbank_events::{
    AccountCommand, AccountId, CommandEnvelope, CommandId, CommandOutcome, CommandResult,
    CorrelationId, RejectionCode, TopicKind, wire,
};
use eventbank_runtime::kafka::KafkaSettings;
use eventbank_testkit::eventually;
use eventbank_testkit::log::read_topic;

pub(super) const LONG: Duration = Duration::from_secs(120);

/// Every result on `command-results` for `command_id`, in log order.
async fn results_for(kafka: &KafkaSettings, command_id: CommandId) -> Vec<CommandResult> {
    read_topic(kafka, TopicKind::CommandResults, false)
        .await
        .into_iter()
        .filter_map(|record| wire::decode::<CommandResult>(record.payload.as_deref()?).ok())
        .filter(|result| result.command_id == command_id)
        .collect()
}

pub(super) async fn await_results(
    kafka: &KafkaSettings,
    command_id: CommandId,
    count: usize,
) -> Vec<CommandResult> {
    eventually("the command's results", LONG, || async {
        let results = results_for(kafka, command_id).await;
        (results.len() >= count).then_some(results)
    })
    .await
}

pub(super) fn envelope(
    command_id: CommandId,
    account_id: AccountId,
    command: AccountCommand,
) -> CommandEnvelope {
    CommandEnvelope::new(
        command_id,
        account_id,
        CorrelationId::new(),
        Utc::now(),
        command,
    )
}

pub(super) fn rejection_code(result: &CommandResult) -> Option<RejectionCode> {
    match &result.outcome {
        CommandOutcome::Rejected { rejection } => Some(rejection.code),
        CommandOutcome::Accepted { .. } => None,
    }
}
