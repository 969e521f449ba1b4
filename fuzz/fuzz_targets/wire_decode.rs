//! Arbitrary bytes as every record kind the services consume. Decoding
//! must never panic; what decodes must survive a round trip unchanged, so a
//! record the decoder accepts is one the encoder could have written.
#![no_main]

use eventbank_events::{
    AccountEventEnvelope, AccountSnapshot, CommandEnvelope, CommandResult, RememberedOutcome,
    TransferEventEnvelope, TransferSagaSnapshot, WireRecord, decode, encode,
};
use libfuzzer_sys::fuzz_target;

fn round_trip<T: WireRecord + PartialEq + std::fmt::Debug>(bytes: &[u8]) {
    if let Ok(record) = decode::<T>(bytes) {
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
