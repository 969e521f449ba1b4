//! Arbitrary bytes as every record kind the services consume. Decoding
//! must never panic; what decodes must survive a round trip unchanged, so a
//! record the decoder accepts is one the encoder could have written. The
//! decoder's direct path for current records must agree with the general
//! one (through a JSON value) on every input: same record or both refused.
#![no_main]

use eventbank_events::{
    AccountEventEnvelope, AccountSnapshot, CommandEnvelope, CommandResult, RememberedOutcome,
    TransferEventEnvelope, TransferSagaSnapshot, WireRecord, decode, decode_any_version, encode,
};
use libfuzzer_sys::fuzz_target;

fn round_trip<T: WireRecord + PartialEq + std::fmt::Debug>(bytes: &[u8]) {
    let decoded = decode::<T>(bytes);
    let general = decode_any_version::<T>(bytes);
    match (&decoded, &general) {
        (Ok(direct), Ok(general)) => assert_eq!(direct, general, "{}: the paths differ", T::KIND),
        (Err(_), Err(_)) => {}
        _ => panic!(
            "{}: one path accepts what the other refuses: {:?} / {:?}",
            T::KIND,
            decoded.as_ref().err(),
            general.as_ref().err()
        ),
    }
    if let Ok(record) = decoded {
        let again = decode::<T>(&encode(&record)).unwrap_or_else(|err| {
            panic!(
                "{}: an accepted record re-encodes undecodable: {err}",
                T::KIND
            )
        });
        assert_eq!(
            again,
            record,
            "{}: the round trip changed the record",
            T::KIND
        );
    }
}

fuzz_target!(|bytes: &[u8]| {
    round_trip::<CommandEnvelope>(bytes);
    round_trip::<AccountEventEnvelope>(bytes);
    round_trip::<TransferEventEnvelope>(bytes);
    round_trip::<CommandResult>(bytes);
    round_trip::<AccountSnapshot>(bytes);
    round_trip::<TransferSagaSnapshot>(bytes);
    round_trip::<RememberedOutcome>(bytes);
});
