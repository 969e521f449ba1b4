//! Message examples: the golden fixtures of this crate (`tests/fixtures`),
//! so every example a reader sees is a record the decoder is proven to read
//! (the golden tests) and that matches its schema (the fixture schema
//! tests). A test checks that every fixture on disk is listed here.

use serde_json::{Value, json};

use crate::wire::SCHEMA_VERSION_FIELD;

/// `(name, JSON)` of each listed fixture of one record kind, compiled in.
macro_rules! fixtures {
    ($kind:literal: $($name:literal),+ $(,)?) => {
        &[$((
            $name,
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/", $kind, "/", $name, ".json"
            )),
        )),+]
    };
}

/// The fixtures of record kind `kind` (a [`WireRecord::KIND`](crate::WireRecord::KIND)).
pub fn fixtures(kind: &str) -> &'static [(&'static str, &'static str)] {
    match kind {
        "account-command" => fixtures!("account-command":
            "open_account", "deposit", "withdraw", "close_account", "debit_for_transfer",
            "credit_for_transfer", "credit_for_transfer_with_deadline", "refund_transfer",
        ),
        "account-event" => fixtures!("account-event":
            "account_opened", "money_deposited", "money_withdrawn", "account_closed",
            "transfer_debited", "transfer_credited", "transfer_credited_with_deadline",
            "transfer_refunded",
        ),
        "account-snapshot" => fixtures!("account-snapshot": "open", "open_with_settled_legs"),
        "command-memory" => fixtures!("command-memory":
            "accepted", "accepted_without_fingerprint", "rejected",
        ),
        "command-result" => fixtures!("command-result":
            "accepted", "accepted_with_fingerprint", "rejected", "rejected_with_transfer_id",
        ),
        "transfer-event" => fixtures!("transfer-event": "transfer_completed", "transfer_failed"),
        "transfer-saga-snapshot" => fixtures!("transfer-saga-snapshot": "crediting", "refunding"),
        _ => &[],
    }
}

/// The message examples of record kind `kind` at `version` (fixtures of
/// older versions stay on disk, proving old bytes decode; they do not match
/// the current schema), those named in `only` if it is not empty.
pub(super) fn examples(kind: &str, version: u32, only: &[&str]) -> Value {
    fixtures(kind)
        .iter()
        .filter(|(name, _)| only.is_empty() || only.contains(name))
        .map(|(name, text)| {
            let payload: Value = serde_json::from_str(text).expect("fixtures are JSON");
            (name, payload)
        })
        .filter(|(_, payload)| payload[SCHEMA_VERSION_FIELD] == version)
        .map(|(name, payload)| json!({ "name": name, "payload": payload }))
        .collect()
}
