//! Operations: which service sends or receives what on each channel — the
//! flows of docs/DESIGN.md. Each operation is tagged with its service, so a
//! reader can filter the document down to one service's side of it.

use serde_json::{Map, Value, json};

use super::channels::Channel;
use crate::topics::TopicKind;

const ACCOUNT_COMMAND: &str = "account-command";
const TRANSFER_SAGA: &str = "transfer-saga";
const BALANCE_PROJECTOR: &str = "balance-projector";
const AUDIT_LOG: &str = "audit-log";

/// The services (the operations' tags) and what each does with Kafka.
const SERVICES: [(&str, &str); 4] = [
    (
        ACCOUNT_COMMAND,
        "The HTTP API that puts commands on account-commands, and the processor that decides them: the single writer of account-events.",
    ),
    (
        BALANCE_PROJECTOR,
        "The read model: applies account and transfer events to Redis.",
    ),
    (
        TRANSFER_SAGA,
        "Moves money between two accounts with a credit after the debit, or a refund.",
    ),
    (
        AUDIT_LOG,
        "The hash-chained audit trail of every event and refusal, in PostgreSQL.",
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Send,
    Receive,
}

/// One service's use of one channel.
#[derive(Debug)]
struct Flow {
    id: &'static str,
    service: &'static str,
    action: Action,
    /// Every message of the channel is sent or received: each service
    /// handles all the kinds of record on a topic it uses.
    channel: Channel,
    summary: &'static str,
}

use Action::{Receive, Send};
use Channel::{DeadLetters, Topic};
use TopicKind as T;

const FLOWS: &[Flow] = &[
    Flow {
        id: "accountCommandApiSendsCommands",
        service: ACCOUNT_COMMAND,
        action: Send,
        channel: Topic(T::AccountCommands),
        summary: "The HTTP API puts each command it accepts (open, deposit, withdraw, close, a transfer's debit) on its account's partition.",
    },
    Flow {
        id: "accountCommandApiReceivesResults",
        service: ACCOUNT_COMMAND,
        action: Receive,
        channel: Topic(T::CommandResults),
        summary: "The HTTP API waits (bounded) for the result of the command it sent, and answers 202 with a URL to fetch it later on time-out.",
    },
    Flow {
        id: "accountCommandProcessorReceivesCommands",
        service: ACCOUNT_COMMAND,
        action: Receive,
        channel: Topic(T::AccountCommands),
        summary: "The processor decides each command of its partitions against the account's state, in one Kafka transaction per batch with everything it sends.",
    },
    Flow {
        id: "accountCommandProcessorSendsEvents",
        service: ACCOUNT_COMMAND,
        action: Send,
        channel: Topic(T::AccountEvents),
        summary: "The single writer of the event store: the events an accepted command produces, in the transaction that consumed it.",
    },
    Flow {
        id: "accountCommandProcessorSendsState",
        service: ACCOUNT_COMMAND,
        action: Send,
        channel: Topic(T::AccountState),
        summary: "Each changed account's new state, once per transaction.",
    },
    Flow {
        id: "accountCommandProcessorRestoresState",
        service: ACCOUNT_COMMAND,
        action: Receive,
        channel: Topic(T::AccountState),
        summary: "On partition assignment, the processor restores its accounts from the compacted state.",
    },
    Flow {
        id: "accountCommandProcessorSendsMemory",
        service: ACCOUNT_COMMAND,
        action: Send,
        channel: Topic(T::CommandMemory),
        summary: "Every decided command's outcome and fingerprint, to its account's partition, and a tombstone once it expires.",
    },
    Flow {
        id: "accountCommandProcessorRestoresMemory",
        service: ACCOUNT_COMMAND,
        action: Receive,
        channel: Topic(T::CommandMemory),
        summary: "On partition assignment, the processor restores the command memory of its partitions.",
    },
    Flow {
        id: "accountCommandProcessorSendsResults",
        service: ACCOUNT_COMMAND,
        action: Send,
        channel: Topic(T::CommandResults),
        summary: "The outcome of every command, accepted or rejected, in the transaction that decided it.",
    },
    Flow {
        id: "transferSagaRouterReceivesEvents",
        service: TRANSFER_SAGA,
        action: Receive,
        channel: Topic(T::AccountEvents),
        summary: "The saga's router picks the transfer debits (a transfer's first leg) out of the account events.",
    },
    Flow {
        id: "transferSagaRouterReceivesResults",
        service: TRANSFER_SAGA,
        action: Receive,
        channel: Topic(T::CommandResults),
        summary: "The saga's router picks the results of the credits and refunds the saga issued (a rejected credit appends no event).",
    },
    Flow {
        id: "transferSagaRouterSendsInbox",
        service: TRANSFER_SAGA,
        action: Send,
        channel: Topic(T::TransferSagaInbox),
        summary: "The router copies each leg it picked, re-keyed by transfer id, so it lands on the partition that owns the transfer's state.",
    },
    Flow {
        id: "transferSagaReceivesInbox",
        service: TRANSFER_SAGA,
        action: Receive,
        channel: Topic(T::TransferSagaInbox),
        summary: "The saga advances each transfer on its legs, in one Kafka transaction per batch with everything it sends.",
    },
    Flow {
        id: "transferSagaSendsCommands",
        service: TRANSFER_SAGA,
        action: Send,
        channel: Topic(T::AccountCommands),
        summary: "A transfer's credit (with a deadline) to the target after the debit, and its refund to the source after a rejected or expired credit; ids are derived from the transfer, so a replay appends nothing twice.",
    },
    Flow {
        id: "transferSagaSendsTransferEvents",
        service: TRANSFER_SAGA,
        action: Send,
        channel: Topic(T::TransferEvents),
        summary: "How each transfer ended: completed after the credit, failed after the refund.",
    },
    Flow {
        id: "transferSagaSendsState",
        service: TRANSFER_SAGA,
        action: Send,
        channel: Topic(T::TransferState),
        summary: "Each transfer's progress, in the transaction with the commands it emits, and a tombstone once it has finished.",
    },
    Flow {
        id: "transferSagaRestoresState",
        service: TRANSFER_SAGA,
        action: Receive,
        channel: Topic(T::TransferState),
        summary: "On partition assignment, the saga restores the transfers of its partitions.",
    },
    Flow {
        id: "balanceProjectorReceivesAccountEvents",
        service: BALANCE_PROJECTOR,
        action: Receive,
        channel: Topic(T::AccountEvents),
        summary: "The read model applies every account event to Redis, idempotently by sequence (a gap is an error, never applied).",
    },
    Flow {
        id: "balanceProjectorReceivesTransferEvents",
        service: BALANCE_PROJECTOR,
        action: Receive,
        channel: Topic(T::TransferEvents),
        summary: "The read model records how each transfer ended.",
    },
    Flow {
        id: "auditLogReceivesAccountEvents",
        service: AUDIT_LOG,
        action: Receive,
        channel: Topic(T::AccountEvents),
        summary: "The audit trail records every account event in its account's hash chain.",
    },
    Flow {
        id: "auditLogReceivesTransferEvents",
        service: AUDIT_LOG,
        action: Receive,
        channel: Topic(T::TransferEvents),
        summary: "The audit trail records every transfer event in its transfer's hash chain.",
    },
    Flow {
        id: "auditLogReceivesResults",
        service: AUDIT_LOG,
        action: Receive,
        channel: Topic(T::CommandResults),
        summary: "The audit trail records refusals, which append no event.",
    },
    Flow {
        id: "accountCommandSendsDeadLetters",
        service: ACCOUNT_COMMAND,
        action: Send,
        channel: DeadLetters,
        summary: "A command the processor cannot decode goes to account-commands.dlq.",
    },
    Flow {
        id: "transferSagaSendsDeadLetters",
        service: TRANSFER_SAGA,
        action: Send,
        channel: DeadLetters,
        summary: "A record the router or the saga cannot decode goes to the dead-letter topic of the topic it came from.",
    },
    Flow {
        id: "balanceProjectorSendsDeadLetters",
        service: BALANCE_PROJECTOR,
        action: Send,
        channel: DeadLetters,
        summary: "An event the read model cannot decode goes to the dead-letter topic of its event topic.",
    },
    Flow {
        id: "auditLogSendsDeadLetters",
        service: AUDIT_LOG,
        action: Send,
        channel: DeadLetters,
        summary: "A record the audit trail cannot decode goes to the dead-letter topic of the topic it came from.",
    },
];

impl Flow {
    fn object(&self) -> Value {
        let messages: Vec<Value> = self
            .channel
            .messages()
            .iter()
            .map(|message| self.channel.message_ref(*message))
            .collect();
        json!({
            "action": match self.action {
                Send => "send",
                Receive => "receive",
            },
            "channel": self.channel.reference(),
            "summary": self.summary,
            "tags": [{ "name": self.service }],
            "messages": messages,
        })
    }
}

/// The services as tags, with what each does.
pub(super) fn tags() -> Value {
    SERVICES
        .iter()
        .map(|(name, description)| json!({ "name": name, "description": description }))
        .collect()
}

/// Every operation of the document, by id.
pub(super) fn all() -> Map<String, Value> {
    FLOWS
        .iter()
        .map(|flow| (flow.id.to_owned(), flow.object()))
        .collect()
}
