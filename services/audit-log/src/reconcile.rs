//! Reconciliation arithmetic: recompute each account's balance from its
//! recorded events and compare it with the `balance_after` every
//! balance-changing event carries.
//!
//! The recomputation is the audit log's own, independent of the command
//! processor: opened → 0, deposits, transfer credits and refunds add, and
//! withdrawals and transfer debits subtract, all in checked `i64` minor units.
//! It never resynchronises on a recorded balance, so an altered amount flags
//! its own event and every later one it throws off, and an altered
//! `balance_after` flags just that event.

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

/// Why an event does not reconcile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MismatchKind {
    /// The recomputed balance differs from the recorded `balance_after`.
    Balance,
    /// The stream's sequences skip or repeat (`expected`/`recorded` are sequences).
    Sequence,
    /// The event's amount or balance cannot be read.
    Unreadable,
    /// The recomputed balance leaves the `i64` range.
    Overflow,
}

/// One event that does not add up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Mismatch {
    pub stream_id: Uuid,
    pub sequence: Option<i64>,
    pub position: i64,
    #[serde(rename = "type")]
    pub record_type: String,
    pub kind: MismatchKind,
    pub expected: Option<i64>,
    pub recorded: Option<i64>,
}

/// An account event as reconciliation sees it: the `event` object of its
/// stored payload.
#[derive(Debug, Clone, Copy)]
pub struct LedgerEvent<'a> {
    pub stream_id: Uuid,
    pub position: i64,
    pub sequence: i64,
    pub record_type: &'a str,
    pub event: &'a Value,
}

/// How an event moves the balance.
enum Effect {
    Open,
    Add(i64),
    Subtract(i64),
    None,
}

/// Reconciles one account at a time; feed its events in sequence order.
#[derive(Debug, Default)]
pub struct Reconciler {
    stream: Option<Uuid>,
    balance: i64,
    last_sequence: i64,
    /// Set after an overflow: later balances would be meaningless.
    broken: bool,
    pub accounts_checked: u64,
    pub events_checked: u64,
}

impl Reconciler {
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next event; returns what does not add up (usually nothing).
    pub fn push(&mut self, event: LedgerEvent<'_>) -> Vec<Mismatch> {
        if self.stream != Some(event.stream_id) {
            self.stream = Some(event.stream_id);
            self.balance = 0;
            self.last_sequence = 0;
            self.broken = false;
            self.accounts_checked += 1;
        }
        self.events_checked += 1;
        let mut found = Vec::new();
        let mismatch = |kind, expected, recorded| Mismatch {
            stream_id: event.stream_id,
            sequence: Some(event.sequence),
            position: event.position,
            record_type: event.record_type.to_owned(),
            kind,
            expected,
            recorded,
        };
        if event.sequence != self.last_sequence + 1 {
            found.push(mismatch(
                MismatchKind::Sequence,
                Some(self.last_sequence + 1),
                Some(event.sequence),
            ));
        }
        self.last_sequence = event.sequence;
        if self.broken {
            return found;
        }
        let effect = match effect(event.record_type, event.event) {
            Ok(effect) => effect,
            Err(()) => {
                found.push(mismatch(MismatchKind::Unreadable, None, None));
                return found;
            }
        };
        let next = match effect {
            Effect::Open => Some(0),
            Effect::Add(amount) => self.balance.checked_add(amount),
            Effect::Subtract(amount) => self.balance.checked_sub(amount),
            Effect::None => Some(self.balance),
        };
        let Some(next) = next else {
            self.broken = true;
            found.push(mismatch(MismatchKind::Overflow, None, None));
            return found;
        };
        self.balance = next;
        match event.event.get("balance_after") {
            None => {}
            Some(recorded) => match recorded.as_i64() {
                Some(recorded) if recorded == next => {}
                Some(recorded) => {
                    found.push(mismatch(MismatchKind::Balance, Some(next), Some(recorded)));
                }
                None => found.push(mismatch(MismatchKind::Unreadable, Some(next), None)),
            },
        }
        found
    }
}

fn effect(record_type: &str, event: &Value) -> Result<Effect, ()> {
    let amount = || {
        event
            .get("amount")
            .and_then(Value::as_i64)
            .filter(|amount| *amount > 0)
            .ok_or(())
    };
    Ok(match record_type {
        "account_opened" => Effect::Open,
        "money_deposited" | "transfer_credited" | "transfer_refunded" => Effect::Add(amount()?),
        "money_withdrawn" | "transfer_debited" => Effect::Subtract(amount()?),
        "account_closed" => Effect::None,
        _ => return Err(()),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const A: Uuid = Uuid::from_u128(1);
    const B: Uuid = Uuid::from_u128(2);

    fn run(events: &[(Uuid, i64, &str, Value)]) -> (Reconciler, Vec<Mismatch>) {
        let mut reconciler = Reconciler::new();
        let mut found = Vec::new();
        for (stream_id, sequence, record_type, event) in events {
            found.extend(reconciler.push(LedgerEvent {
                stream_id: *stream_id,
                position: *sequence,
                sequence: *sequence,
                record_type,
                event,
            }));
        }
        (reconciler, found)
    }

    fn history(deposit: i64) -> Vec<(Uuid, i64, &'static str, Value)> {
        vec![
            (A, 1, "account_opened", json!({"holder": "Ann"})),
            (
                A,
                2,
                "money_deposited",
                json!({"amount": deposit, "balance_after": 1000}),
            ),
            (
                A,
                3,
                "money_withdrawn",
                json!({"amount": 300, "balance_after": 700}),
            ),
            (
                A,
                4,
                "transfer_debited",
                json!({"amount": 200, "balance_after": 500}),
            ),
            (
                A,
                5,
                "transfer_refunded",
                json!({"amount": 200, "balance_after": 700}),
            ),
            (B, 1, "account_opened", json!({})),
            (
                B,
                2,
                "transfer_credited",
                json!({"amount": 50, "balance_after": 50}),
            ),
            (
                B,
                3,
                "money_withdrawn",
                json!({"amount": 50, "balance_after": 0}),
            ),
            (B, 4, "account_closed", json!({})),
        ]
    }

    #[test]
    fn clean_histories_reconcile() {
        let (reconciler, found) = run(&history(1000));
        assert_eq!(found, vec![]);
        assert_eq!(reconciler.accounts_checked, 2);
        assert_eq!(reconciler.events_checked, 9);
    }

    #[test]
    fn an_altered_amount_flags_its_event_and_what_it_throws_off() {
        let (_, found) = run(&history(1500));
        assert_eq!(found.len(), 4, "{found:?}");
        assert_eq!(found[0].sequence, Some(2));
        assert_eq!(found[0].kind, MismatchKind::Balance);
        assert_eq!(
            (found[0].expected, found[0].recorded),
            (Some(1500), Some(1000))
        );
        assert!(found.iter().all(|m| m.stream_id == A));
    }

    #[test]
    fn an_altered_balance_flags_only_its_event() {
        let mut events = history(1000);
        events[2].3 = json!({"amount": 300, "balance_after": 701});
        let (_, found) = run(&events);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].expected, found[0].recorded),
            (Some(700), Some(701))
        );
    }

    #[test]
    fn gaps_unreadable_events_and_overflow_are_reported() {
        let mut events = history(1000);
        events.remove(2);
        let (_, found) = run(&events);
        assert_eq!(found[0].kind, MismatchKind::Sequence);
        assert_eq!((found[0].expected, found[0].recorded), (Some(3), Some(4)));

        let (_, found) = run(&[
            (A, 1, "account_opened", json!({})),
            (A, 2, "money_deposited", json!({"amount": "lots"})),
            (
                A,
                3,
                "money_deposited",
                json!({"amount": i64::MAX, "balance_after": i64::MAX}),
            ),
            (
                A,
                4,
                "money_deposited",
                json!({"amount": 1, "balance_after": 0}),
            ),
            (
                A,
                5,
                "money_deposited",
                json!({"amount": 1, "balance_after": 0}),
            ),
        ]);
        let kinds: Vec<_> = found.iter().map(|m| m.kind).collect();
        assert_eq!(kinds, [MismatchKind::Unreadable, MismatchKind::Overflow]);
    }
}
