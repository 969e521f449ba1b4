//! The account's round trip through the `account-state` snapshot.

use eventbank_events::{
    AccountSnapshot, CommandId, CommandOutcome, RejectionCode, RememberedCommand, WireRecord, wire,
};
use uuid::Uuid;

use super::harness::*;
use crate::domain::Account;

#[test]
fn snapshot_round_trip_keeps_the_account_and_carries_remembered_commands() {
    let account = replay(&[opened(), deposited(700, 700), closed()]).expect("open");
    let remembered = vec![RememberedCommand {
        command_id: CommandId::from_uuid(Uuid::from_u128(1)),
        result: CommandOutcome::rejected(RejectionCode::BalanceNotZero, "not empty"),
    }];

    let snapshot = account.to_snapshot(remembered.clone());

    assert_eq!(snapshot.schema_version, AccountSnapshot::CURRENT_VERSION);
    assert_eq!(snapshot.account_id, ACCOUNT);
    assert_eq!(snapshot.version, 3);
    assert_eq!(snapshot.recent_commands, remembered);
    assert_eq!(Account::from_snapshot(&snapshot), account);
}

#[test]
fn snapshot_survives_the_wire() {
    let account = replay(&[opened(), deposited(700, 700)]).expect("open");
    let bytes = wire::encode(&account.to_snapshot(Vec::new()));
    let decoded: AccountSnapshot = wire::decode(&bytes).expect("decodes");
    assert_eq!(Account::from_snapshot(&decoded), account);
}
