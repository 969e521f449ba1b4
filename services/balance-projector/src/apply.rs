//! How a batch of events reaches Redis: the apply script
//! (`lua/apply_batch.lua`) and the encoder of its keys and arguments, kept
//! apart from the connection so the layout is tested without Redis.
//!
//! One script call applies many events (the script loops over them), so
//! Redis parses one command and enters Lua once per call instead of once per
//! event; inside, each account is read once and written once per call, its
//! events in between folded in Lua (`Store::apply` sorts a batch by stream
//! so an account's events meet in one call).

use eventbank_events::{AccountEvent, AccountEventEnvelope, TransferEvent, TransferEventEnvelope};
use serde::Serialize;

use crate::store::Event;

/// The script every batch is applied with.
pub const APPLY_SCRIPT: &str = include_str!("lua/apply_batch.lua");

/// Events per script call at most. A call runs atomically and holds Redis
/// (and every reader) for its length, so a large batch is split into calls
/// of this size, sent in one pipelined round trip.
pub const EVENTS_PER_CALL: usize = 256;

/// Keys of every call, before the events' own.
const SHARED_KEYS: usize = 4;
/// Keys and arguments per event, as the script steps through them.
const ACCOUNT_KEYS: usize = 3;
const ACCOUNT_ARGS: usize = 12;
const TRANSFER_KEYS: usize = 1;
const TRANSFER_ARGS: usize = 8;

/// The keys and arguments of one script call, in the script's layout.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ApplyCall {
    /// One letter per event: `a` account, `t` transfer (the script's ARGV[1]).
    pub kinds: String,
    pub keys: Vec<String>,
    /// ARGV[2..]: each event's arguments in order.
    pub args: Vec<String>,
}

/// One line of an account's history as the view stores it (a sorted-set
/// member; the API returns it parsed). Written straight from the event's
/// fields, without a `serde_json::Value` in between.
#[derive(Debug, Default, Serialize)]
struct HistoryEntry<'a> {
    sequence: u64,
    event_id: String,
    #[serde(rename = "type")]
    kind: &'a str,
    occurred_at: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    holder: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    currency: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transfer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    balance_after: Option<i64>,
}

impl ApplyCall {
    /// Encodes `events` for the generation whose keys start with `base`.
    pub fn encode(base: &str, events: &[&Event]) -> Self {
        // The keys every event may touch, once per call.
        let shared: [String; SHARED_KEYS] = [
            format!("{base}idx:open"),
            format!("{base}idx:closed"),
            format!("{base}stalled:acct"),
            format!("{base}stalled:xfer"),
        ];
        let mut call = Self {
            keys: shared.into(),
            ..Self::default()
        };
        for event in events {
            match *event {
                Event::Account(envelope) => call.push_account(base, envelope),
                Event::Transfer(envelope) => call.push_transfer(base, envelope),
            }
        }
        call
    }

    /// The `EVALSHA` command for this call of the script `sha`.
    pub fn command(&self, sha: &str) -> redis::Cmd {
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(sha)
            .arg(self.keys.len())
            .arg(&self.keys)
            .arg(&self.kinds)
            .arg(&self.args);
        cmd
    }

    fn push_account(&mut self, base: &str, envelope: &AccountEventEnvelope) {
        let id = envelope.account_id().to_string();
        let occurred_at = envelope.occurred_at.to_rfc3339();
        let (mut holder, mut currency) = (String::new(), String::new());
        let (mut transfer_id, mut to, mut amount, mut transfer_currency) =
            (String::new(), String::new(), String::new(), String::new());
        let balance_after = envelope.event.balance_after().map(|m| m.minor_units());
        let mut entry = HistoryEntry {
            sequence: envelope.sequence,
            event_id: envelope.event_id.to_string(),
            kind: envelope.event.event_type(),
            occurred_at: &occurred_at,
            balance_after,
            ..HistoryEntry::default()
        };
        match &envelope.event {
            AccountEvent::AccountOpened {
                holder: h,
                currency: c,
            } => {
                holder = h.as_str().to_owned();
                currency = c.as_str().to_owned();
                entry.holder = Some(h.as_str());
                entry.currency = Some(c.as_str());
            }
            AccountEvent::MoneyDeposited { amount: a, .. }
            | AccountEvent::MoneyWithdrawn { amount: a, .. } => {
                entry.amount = Some(a.minor_units());
            }
            AccountEvent::AccountClosed {} => {}
            AccountEvent::TransferDebited {
                transfer_id: t,
                to: target,
                amount: a,
                currency: c,
                ..
            } => {
                transfer_id = t.to_string();
                to = target.to_string();
                amount = a.minor_units().to_string();
                transfer_currency = c.as_str().to_owned();
                entry.amount = Some(a.minor_units());
                entry.transfer_id = Some(transfer_id.clone());
                entry.to = Some(to.clone());
            }
            AccountEvent::TransferCredited {
                transfer_id: t,
                from,
                amount: a,
                ..
            } => {
                entry.amount = Some(a.minor_units());
                entry.transfer_id = Some(t.to_string());
                entry.from = Some(from.to_string());
            }
            AccountEvent::TransferRefunded {
                transfer_id: t,
                amount: a,
                reason,
                ..
            } => {
                entry.amount = Some(a.minor_units());
                entry.transfer_id = Some(t.to_string());
                entry.reason = Some(reason.code());
            }
        }
        let entry = serde_json::to_string(&entry).expect("a history entry always serializes");
        self.kinds.push('a');
        let keys: [String; ACCOUNT_KEYS] = [
            format!("{base}acct:{id}"),
            format!("{base}hist:{id}"),
            // Read only for a debit, but every declared key must be a string.
            format!(
                "{base}xfer:{}",
                if transfer_id.is_empty() {
                    "none"
                } else {
                    &transfer_id
                }
            ),
        ];
        self.keys.extend(keys);
        let args: [String; ACCOUNT_ARGS] = [
            id,
            envelope.sequence.to_string(),
            envelope.event.event_type().to_owned(),
            occurred_at,
            holder,
            currency,
            balance_after.map(|b| b.to_string()).unwrap_or_default(),
            entry,
            transfer_id,
            to,
            amount,
            transfer_currency,
        ];
        self.args.extend(args);
    }

    fn push_transfer(&mut self, base: &str, envelope: &TransferEventEnvelope) {
        let id = envelope.transfer_id().to_string();
        let (status, reason, from, to, amount, currency) = match &envelope.event {
            TransferEvent::TransferCompleted {
                from,
                to,
                amount,
                currency,
            } => ("completed", "", from, to, amount, currency),
            TransferEvent::TransferFailed {
                from,
                to,
                amount,
                currency,
                reason,
            } => ("failed", reason.code(), from, to, amount, currency),
        };
        self.kinds.push('t');
        let keys: [String; TRANSFER_KEYS] = [format!("{base}xfer:{id}")];
        self.keys.extend(keys);
        let args: [String; TRANSFER_ARGS] = [
            id,
            envelope.sequence.to_string(),
            status.to_owned(),
            reason.to_owned(),
            from.to_string(),
            to.to_string(),
            amount.minor_units().to_string(),
            currency.as_str().to_owned(),
        ];
        self.args.extend(args);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eventbank_events::testing::{debited, envelope, opened};
    use eventbank_events::{AccountId, TransferId};

    fn account_event(account: AccountId, sequence: u64, event: AccountEvent) -> Event {
        Event::Account(envelope(account.into(), sequence, event))
    }

    #[test]
    fn the_script_steps_through_the_layout_the_encoder_writes() {
        for stride in [
            format!("local k, a = {SHARED_KEYS}, 1"),
            format!("k = k + {ACCOUNT_KEYS}"),
            format!("a = a + {ACCOUNT_ARGS}"),
            format!("k = k + {TRANSFER_KEYS}"),
            format!("a = a + {TRANSFER_ARGS}"),
        ] {
            assert!(
                APPLY_SCRIPT.contains(&stride),
                "the script lacks `{stride}`"
            );
        }
    }

    #[test]
    fn each_event_gets_its_keys_and_arguments_in_order() {
        let account = AccountId::new();
        let target = AccountId::new();
        let transfer = TransferId::new();
        let events = [
            account_event(account, 1, opened("Ann")),
            account_event(account, 2, debited(transfer, target, 40, 60)),
        ];
        let call = ApplyCall::encode("p:g1:", &events.iter().collect::<Vec<_>>());
        assert_eq!(call.kinds, "aa");
        assert_eq!(call.keys.len(), SHARED_KEYS + 2 * ACCOUNT_KEYS);
        assert_eq!(call.args.len(), 2 * ACCOUNT_ARGS);
        assert_eq!(
            call.keys[..SHARED_KEYS],
            [
                "p:g1:idx:open",
                "p:g1:idx:closed",
                "p:g1:stalled:acct",
                "p:g1:stalled:xfer"
            ]
        );
        let opened_keys = &call.keys[SHARED_KEYS..SHARED_KEYS + ACCOUNT_KEYS];
        assert_eq!(opened_keys[0], format!("p:g1:acct:{account}"));
        assert_eq!(opened_keys[1], format!("p:g1:hist:{account}"));
        assert_eq!(opened_keys[2], "p:g1:xfer:none");
        assert_eq!(
            call.keys[SHARED_KEYS + ACCOUNT_KEYS + 2],
            format!("p:g1:xfer:{transfer}")
        );
        let debit = &call.args[ACCOUNT_ARGS..];
        assert_eq!(debit[0], account.to_string());
        assert_eq!(debit[1], "2");
        assert_eq!(debit[2], "transfer_debited");
        assert_eq!(debit[6], "60", "balance after");
        let entry: serde_json::Value = serde_json::from_str(&debit[7]).unwrap();
        assert_eq!(entry["amount"], 40);
        assert_eq!(entry["to"], target.to_string());
        assert_eq!(
            &debit[8..],
            [
                transfer.to_string(),
                target.to_string(),
                "40".into(),
                "EUR".into()
            ]
        );
        let opened = &call.args[..ACCOUNT_ARGS];
        assert_eq!((opened[4].as_str(), opened[5].as_str()), ("Ann", "EUR"));
        assert_eq!(opened[6], "", "an opening carries no balance_after");
    }
}
