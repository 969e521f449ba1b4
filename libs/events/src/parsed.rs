//! Deserializing a string through the type's own parser, so a bad value in a
//! record fails with the type's message ("invalid account id ...", "holder
//! must not be empty") — the text a dead-letter header carries — rather than
//! a generic one.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, Visitor};

/// Reads a string from `deserializer` and hands it to `parse`; `expecting`
/// names what a value of another JSON type should have been.
pub(crate) fn deserialize_parsed<'de, D, T, E>(
    deserializer: D,
    expecting: &'static str,
    parse: fn(&str) -> Result<T, E>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    E: fmt::Display,
{
    deserializer.deserialize_str(ParsedVisitor {
        expecting,
        parse,
        _value: PhantomData,
    })
}

struct ParsedVisitor<T, E> {
    expecting: &'static str,
    parse: fn(&str) -> Result<T, E>,
    _value: PhantomData<T>,
}

impl<T, E: fmt::Display> Visitor<'_> for ParsedVisitor<T, E> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<Err: de::Error>(self, value: &str) -> Result<T, Err> {
        (self.parse)(value).map_err(Err::custom)
    }
}
