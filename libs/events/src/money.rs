//! Money as integers: balances ([`Money`]), positive amounts ([`Amount`]) and
//! ISO-4217 currency codes ([`Currency`]).
//!
//! Values are minor units (cents) in an `i64`. Arithmetic is checked and an
//! overflow is an error, never a wrap: a balance that silently wrapped would
//! break money conservation. There are no floats anywhere, and a JSON number
//! with a fraction or exponent (`10.5`, `1e3`) is rejected when decoding.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::text::excerpt;

/// Why a money value could not be built or computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// The result does not fit in an `i64` of minor units.
    #[error("money overflow: {lhs} {op} {rhs} does not fit in 64-bit minor units")]
    Overflow {
        /// `"+"` or `"-"`.
        op: &'static str,
        lhs: Money,
        rhs: Money,
    },
    /// Amounts in commands and events must be strictly positive.
    #[error("amount must be a positive number of minor units, got {0}")]
    NotPositive(i64),
}

/// A signed quantity of money in minor units — a balance or a difference of
/// balances. Serialized as a plain JSON integer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    /// No money.
    pub const ZERO: Money = Money(0);

    /// `minor_units` cents (or the currency's equivalent).
    pub const fn new(minor_units: i64) -> Self {
        Self(minor_units)
    }

    /// The value in minor units.
    pub const fn minor_units(self) -> i64 {
        self.0
    }

    /// `self + rhs`, or an error if it would overflow.
    pub const fn checked_add(self, rhs: Money) -> Result<Money, MoneyError> {
        self.or_overflow(self.0.checked_add(rhs.0), "+", rhs)
    }

    /// `self - rhs`, or an error if it would overflow.
    pub const fn checked_sub(self, rhs: Money) -> Result<Money, MoneyError> {
        self.or_overflow(self.0.checked_sub(rhs.0), "-", rhs)
    }

    /// The `result` of `self op rhs`, or the overflow error that names them.
    const fn or_overflow(
        self,
        result: Option<i64>,
        op: &'static str,
        rhs: Money,
    ) -> Result<Money, MoneyError> {
        match result {
            Some(value) => Ok(Money(value)),
            None => Err(MoneyError::Overflow { op, lhs: self, rhs }),
        }
    }

    /// Whether this is below zero (which no balance may ever be).
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Whether this is exactly zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Money {
    /// Minor units, as stored. Rendering `12.34` needs the currency's exponent
    /// (JPY has none), which is a presentation concern.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

// Hand-written only for the message: "expected an integer amount of money in
// minor units" says more in a dead-letter reason than "expected i64".
impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_i64(MinorUnits {
            expecting: "an integer amount of money in minor units",
            noun: "money",
            build: |value| Ok(Money(value)),
        })
    }
}

impl From<Amount> for Money {
    fn from(amount: Amount) -> Self {
        Money(amount.0)
    }
}

/// A strictly positive quantity of money in minor units: what a command moves.
///
/// Zero and negative amounts are unrepresentable, including when decoding —
/// a withdrawal of `-500` is a malformed record, not a deposit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Amount(i64);

impl Amount {
    /// The largest representable amount.
    pub const MAX: Amount = Amount(i64::MAX);

    /// `minor_units` if it is positive.
    pub const fn new(minor_units: i64) -> Result<Self, MoneyError> {
        if minor_units > 0 {
            Ok(Self(minor_units))
        } else {
            Err(MoneyError::NotPositive(minor_units))
        }
    }

    /// The value in minor units; always `> 0`.
    pub const fn minor_units(self) -> i64 {
        self.0
    }

    /// The same value as (signed) [`Money`], for balance arithmetic.
    pub const fn as_money(self) -> Money {
        Money(self.0)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl TryFrom<i64> for Amount {
    type Error = MoneyError;

    fn try_from(minor_units: i64) -> Result<Self, MoneyError> {
        Self::new(minor_units)
    }
}

impl TryFrom<Money> for Amount {
    type Error = MoneyError;

    fn try_from(money: Money) -> Result<Self, MoneyError> {
        Self::new(money.0)
    }
}

// Hand-written so every way a JSON number can be wrong yields a message that
// says "amount": a float, a non-positive value, or one beyond i64.
impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_i64(MinorUnits {
            expecting: "a positive integer amount in minor units",
            noun: "amount",
            build: Amount::new,
        })
    }
}

/// Decodes a JSON integer of minor units with `build`, so that a float or a
/// value beyond `i64` is refused in words that name what was expected.
struct MinorUnits<T> {
    expecting: &'static str,
    /// Names the value in the "too large" message.
    noun: &'static str,
    build: fn(i64) -> Result<T, MoneyError>,
}

impl<T> Visitor<'_> for MinorUnits<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<T, E> {
        (self.build)(value).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<T, E> {
        let value = i64::try_from(value).map_err(|_| {
            E::custom(format_args!(
                "{} {value} is too large: at most {} minor units",
                self.noun,
                i64::MAX
            ))
        })?;
        self.visit_i64(value)
    }
}

/// An ISO-4217 currency code: exactly three uppercase ASCII letters, e.g. `EUR`.
///
/// Only the shape is checked, not membership in the ISO list: the list changes
/// and a bank operating a currency is a business decision, not a schema one.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

/// A string that is not three uppercase ASCII letters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid currency {input:?}: expected an ISO-4217 code of exactly 3 uppercase letters, like \"EUR\"{hint}"
)]
pub struct CurrencyError {
    /// The offending input, shortened if it was long.
    pub input: String,
    hint: String,
}

impl Currency {
    /// Euro.
    pub const EUR: Currency = Currency(*b"EUR");
    /// US dollar.
    pub const USD: Currency = Currency(*b"USD");
    /// Pound sterling.
    pub const GBP: Currency = Currency(*b"GBP");

    /// Parses a code; lowercase, padded or other-length input is refused (not
    /// normalised) so that one currency has exactly one spelling on the wire.
    pub fn parse(input: &str) -> Result<Self, CurrencyError> {
        match <[u8; 3]>::try_from(input.as_bytes()) {
            Ok(code) if code.iter().all(u8::is_ascii_uppercase) => Ok(Self(code)),
            _ => {
                let upper = input.to_ascii_uppercase();
                let hint = if upper != input && Self::parse(&upper).is_ok() {
                    format!(" (did you mean {upper:?}?)")
                } else {
                    String::new()
                };
                Err(CurrencyError {
                    input: excerpt(input, 16),
                    hint,
                })
            }
        }
    }

    /// The three-letter code.
    pub fn as_str(&self) -> &str {
        // Only ever built from three ASCII uppercase letters.
        std::str::from_utf8(&self.0).expect("currency codes are ASCII")
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.as_str())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Currency {
    type Err = CurrencyError;

    fn from_str(input: &str) -> Result<Self, CurrencyError> {
        Self::parse(input)
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CurrencyVisitor;

        impl Visitor<'_> for CurrencyVisitor {
            type Value = Currency;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ISO-4217 currency code string")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Currency, E> {
                Currency::parse(value).map_err(E::custom)
            }
        }

        deserializer.deserialize_str(CurrencyVisitor)
    }
}

#[cfg(test)]
mod tests;
