//! The account's round trip through the `account-state` snapshot.

use eventbank_events::{
    AccountSnapshot, CommandId, CommandOutcome, RejectionCode, RememberedCommand, WireRecord, wire,
};
use uuid::Uuid;

use super::harness::*;
use crate::domain::Account;

#[test]
fn snapshot_round_trip_keeps_the_account_and_nothing_that_grows() {
    let account = replay(&[opened(), deposited(700, 700), closed()]).expect("open");

    let snapshot = account.to_snapshot();

    assert_eq!(snapshot.schema_version, AccountSnapshot::CURRENT_VERSION);
    assert_eq!(snapshot.account_id, ACCOUNT);
    assert_eq!(snapshot.version, 3);
    assert!(snapshot.recent_commands.is_empty());
    assert!(snapshot.settled_legs.is_empty());
    assert_eq!(Account::from_snapshot(&snapshot), account);
}

#[test]
fn an_old_snapshot_with_remembered_commands_still_restores_the_account() {
    let account = replay(&[opened(), deposited(700, 700)]).expect("open");
    let mut snapshot = account.to_snapshot();
    snapshot.recent_commands = vec![RememberedCommand {
        command_id: CommandId::from_uuid(Uuid::from_u128(1)),
        result: CommandOutcome::rejected(RejectionCode::BalanceNotZero, "not empty"),
    }];
    assert_eq!(Account::from_snapshot(&snapshot), account);
}

#[test]
fn snapshot_survives_the_wire() {
    let account = replay(&[opened(), deposited(700, 700)]).expect("open");
    let bytes = wire::encode(&account.to_snapshot());
    let decoded: AccountSnapshot = wire::decode(&bytes).expect("decodes");
    assert_eq!(Account::from_snapshot(&decoded), account);
}
