//! The account holder's name.

use std::fmt;

use serde::de::Deserializer;
use serde::{Deserialize, Serialize};

use crate::parsed::deserialize_parsed;

/// Why a holder name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HolderError {
    #[error("holder must not be empty")]
    Empty,
    #[error(
        "holder is {chars} characters long; at most {} are allowed",
        Holder::MAX_CHARS
    )]
    TooLong { chars: usize },
    #[error("holder must not contain control characters (such as line breaks)")]
    ControlCharacter,
}

/// An account holder's name: trimmed, non-empty, at most
/// [`Holder::MAX_CHARS`] characters, no control characters.
///
/// Control characters are refused because the name is echoed into logs, CSV
/// exports and terminals, where a stray newline or escape sequence forges
/// output.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Holder(String);

impl Holder {
    /// Longest accepted name, in characters (Unicode scalar values, not bytes).
    pub const MAX_CHARS: usize = 200;

    /// Trims surrounding whitespace, then validates.
    pub fn parse(input: &str) -> Result<Self, HolderError> {
        let name = input.trim();
        if name.is_empty() {
            return Err(HolderError::Empty);
        }
        let chars = name.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(HolderError::TooLong { chars });
        }
        if name.chars().any(char::is_control) {
            return Err(HolderError::ControlCharacter);
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Holder {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_parsed(deserializer, "the holder's name as a string", Holder::parse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_accepts_ordinary_names() {
        assert_eq!(Holder::parse("  Ann Lee ").unwrap().as_str(), "Ann Lee");
        assert!(Holder::parse("Zoë Ångström-Łukasiewicz").is_ok());
    }

    #[test]
    fn refuses_empty_long_and_control_characters() {
        assert_eq!(Holder::parse(" \t "), Err(HolderError::Empty));
        assert!(
            Holder::parse(&"é".repeat(200)).is_ok(),
            "counted in characters, not bytes"
        );
        assert_eq!(
            Holder::parse(&"x".repeat(201)),
            Err(HolderError::TooLong { chars: 201 })
        );
        assert_eq!(
            Holder::parse("Ann\nLee"),
            Err(HolderError::ControlCharacter)
        );
    }

    #[test]
    fn json_is_validated() {
        let err = serde_json::from_str::<Holder>("\"\"").unwrap_err();
        assert!(
            err.to_string().contains("holder must not be empty"),
            "{err}"
        );
    }
}
