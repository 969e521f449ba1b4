//! Golden fixtures: today's code must decode yesterday's bytes.
//!
//! `tests/fixtures/<record kind>/<variant>.json` holds one checked-in document
//! per variant. Each must decode to the sample built in `samples.rs`, and the
//! sample must encode to the same JSON (compared as values, so formatting and
//! key order do not matter). A fixture is never edited to make a test pass:
//! a shape change gets a new schema version and an upcaster, and the old
//! fixture keeps proving that old bytes still decode.
//!
//! Adding a variant: add a sample, then run the tests with
//! `EVENTBANK_BLESS_FIXTURES=1` to write the *missing* fixture (existing ones
//! are never overwritten), and review the new file like code.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::path::{Path, PathBuf};

use eventbank_events::wire::{self, WireRecord};
use eventbank_events::{
    AccountCommand, AccountEvent, AccountEventEnvelope, CommandEnvelope, CommandOutcome,
    CommandResult, RejectionCode, TransferEvent, TransferFailureReason,
};
use serde_json::Value;

use crate::samples;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Checks every sample against its fixture and that the fixture directory
/// holds exactly the samples' fixtures.
fn check_golden<T>(samples: Vec<(&'static str, T)>)
where
    T: WireRecord + PartialEq + Debug,
{
    let dir = fixtures_dir().join(T::KIND);
    for (name, expected) in &samples {
        let path = dir.join(format!("{name}.json"));
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(_) if std::env::var_os("EVENTBANK_BLESS_FIXTURES").is_some() => {
                bless(&path, expected);
                continue;
            }
            Err(error) => panic!(
                "{}: {error}; a sample without a fixture (see this module's docs)",
                path.display()
            ),
        };

        let decoded: T =
            wire::decode(&bytes).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
        assert_eq!(
            &decoded,
            expected,
            "{} decodes to the sample",
            path.display()
        );
        let general: T = wire::decode_any_version(&bytes)
            .unwrap_or_else(|err| panic!("{} (general path): {err}", path.display()));
        assert_eq!(
            general,
            decoded,
            "{}: both decoding paths agree",
            path.display()
        );

        let fixture: Value = serde_json::from_slice(&bytes).expect("fixture is JSON");
        let encoded: Value = serde_json::from_slice(&wire::encode(expected)).expect("JSON");
        assert_eq!(encoded, fixture, "the sample encodes to {}", path.display());
    }

    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| {
            entry
                .expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let expected: BTreeSet<String> = samples
        .iter()
        .map(|(name, _)| format!("{name}.json"))
        .collect();
    assert_eq!(
        on_disk,
        expected,
        "fixtures in {} vs samples",
        dir.display()
    );
}

/// Writes a missing fixture in the struct's field order (more readable than
/// the sorted keys `encode` produces; the comparison ignores order anyway).
fn bless<T: WireRecord>(path: &Path, record: &T) {
    let mut pretty = serde_json::to_string_pretty(record).expect("JSON");
    pretty.push('\n');
    let written: Value = serde_json::from_str(&pretty).expect("JSON");
    assert_eq!(
        written["schema_version"],
        T::CURRENT_VERSION,
        "samples are current"
    );
    std::fs::create_dir_all(path.parent().expect("has a parent")).expect("create fixture dir");
    std::fs::write(path, pretty).expect("write fixture");
    eprintln!("wrote new fixture {}; review it", path.display());
}

fn names<T>(samples: &[(&'static str, T)]) -> BTreeSet<&'static str> {
    samples.iter().map(|(name, _)| *name).collect()
}

/// The variants `samples` cover. A variant's extra samples (an optional
/// field's present form) are named `<variant>_with_<field>`.
fn sampled_variants<T>(samples: &[(&'static str, T)]) -> BTreeSet<&'static str> {
    names(samples)
        .into_iter()
        .map(|name| {
            name.split_once("_with_")
                .map_or(name, |(variant, _)| variant)
        })
        .collect()
}

fn set(tags: &[&'static str]) -> BTreeSet<&'static str> {
    tags.iter().copied().collect()
}

/// One test per kind of record: its samples against their fixtures.
macro_rules! golden_tests {
    ($($test:ident: $samples:path,)*) => {$(
        #[test]
        fn $test() {
            check_golden($samples());
        }
    )*};
}

golden_tests! {
    account_commands: samples::commands,
    account_events: samples::account_events,
    transfer_events: samples::transfer_events,
    command_results: samples::command_results,
    remembered_outcomes: samples::remembered_outcomes,
    account_snapshots: samples::account_snapshots,
    transfer_saga_snapshots: samples::saga_snapshots,
}

/// The variant lists the crate hand-maintains (`TYPES`, `ALL`, ...) and the
/// samples must match what serde derives from the enums themselves, so adding
/// a variant without a sample (hence without a fixture) fails here.
#[test]
fn every_variant_has_a_sample_and_a_declared_tag() {
    // Extra samples of a variant (a field's optional form) are named
    // `<type>_with_<field>`.
    variants_match::<AccountCommand>(
        "type",
        "AccountCommand::TYPES",
        AccountCommand::TYPES,
        sampled_variants(&samples::commands()),
    );
    variants_match::<AccountEvent>(
        "type",
        "AccountEvent::TYPES",
        AccountEvent::TYPES,
        sampled_variants(&samples::account_events()),
    );
    variants_match::<TransferEvent>(
        "type",
        "TransferEvent::TYPES",
        TransferEvent::TYPES,
        names(&samples::transfer_events()),
    );
    variants_match::<CommandOutcome>(
        "status",
        "CommandOutcome::STATUSES",
        CommandOutcome::STATUSES,
        sampled_variants(&samples::command_results()),
    );

    let codes = set(samples::serde_variants::<RejectionCode>(None));
    let listed: BTreeSet<_> = RejectionCode::ALL
        .iter()
        .map(|code| code.as_str())
        .collect();
    assert_eq!(listed, codes, "RejectionCode::ALL is complete");

    let reasons = samples::serde_variants::<TransferFailureReason>(None);
    for reason in reasons {
        let parsed: TransferFailureReason =
            serde_json::from_value(Value::from(*reason)).expect("a declared reason");
        assert_eq!(parsed.code(), *reason);
    }
}

/// `E`'s variants as serde tags them under `tag` are the ones the crate
/// declares in `list` (named `list_name`) and the ones `sampled`.
fn variants_match<E: serde::de::DeserializeOwned>(
    tag: &'static str,
    list_name: &str,
    list: &[&'static str],
    sampled: BTreeSet<&'static str>,
) {
    let variants = serde_variants_of::<E>(tag);
    assert_eq!(set(list), variants, "{list_name} vs the enum's variants");
    let enum_name = list_name.split("::").next().unwrap_or(list_name);
    assert_eq!(sampled, variants, "a sample per {enum_name} variant");
}

/// The tag checked by `wire::decode` must be the one serde uses.
#[test]
fn declared_type_tags_point_at_the_serde_tags() {
    let tag = CommandEnvelope::TYPE_TAG.expect("commands are tagged");
    assert_eq!(tag.path, ["command", "type"]);
    assert_eq!(tag.known, AccountCommand::TYPES);
    assert_eq!(
        AccountEventEnvelope::TYPE_TAG.map(|tag| tag.known),
        Some(AccountEvent::TYPES)
    );
    assert_eq!(
        CommandResult::TYPE_TAG.map(|tag| tag.path),
        Some(&["outcome", "status"][..])
    );
}

fn serde_variants_of<T: serde::de::DeserializeOwned>(tag: &'static str) -> BTreeSet<&'static str> {
    set(samples::serde_variants::<T>(Some(tag)))
}
