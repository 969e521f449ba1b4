//! The serde probe that lists an enum's variants.

use std::fmt;

use serde::de::value::{MapDeserializer, StrDeserializer};
use serde::de::{self, DeserializeOwned};

/// The tags serde derives for `T`'s variants — the real list, straight from
/// the enum definition, so a variant added without a sample or fixture is
/// noticed. `tag` is the field of an internally tagged enum, or `None` for an
/// enum serialized as a plain string.
///
/// It asks serde to decode an impossible tag and captures the `expected` list
/// serde passes to [`de::Error::unknown_variant`].
pub fn serde_variants<T: DeserializeOwned>(tag: Option<&'static str>) -> &'static [&'static str] {
    const IMPOSSIBLE: &str = "\u{0}no such variant";
    let result = match tag {
        Some(tag) => T::deserialize(MapDeserializer::<_, Probe>::new(
            [(tag, IMPOSSIBLE)].into_iter(),
        )),
        None => T::deserialize(StrDeserializer::<Probe>::new(IMPOSSIBLE)),
    };
    match result {
        Err(Probe(Some(variants))) => variants,
        Err(Probe(None)) => panic!("serde did not report the unknown variant"),
        Ok(_) => panic!("an impossible tag decoded"),
    }
}

#[derive(Debug)]
struct Probe(Option<&'static [&'static str]>);

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl std::error::Error for Probe {}

impl de::Error for Probe {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Probe(None)
    }

    fn unknown_variant(_: &str, expected: &'static [&'static str]) -> Self {
        Probe(Some(expected))
    }
}
