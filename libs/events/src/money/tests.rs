//! Unit tests of money: checked arithmetic at the edges, strict JSON, currency codes.

use super::*;

#[test]
fn addition_and_subtraction_are_checked_at_the_edges() {
    let max = Money::new(i64::MAX);
    assert_eq!(max.checked_add(Money::ZERO), Ok(max));
    assert_eq!(
        max.checked_add(Money::new(1)),
        Err(MoneyError::Overflow {
            op: "+",
            lhs: max,
            rhs: Money::new(1)
        })
    );
    assert!(Money::new(i64::MIN).checked_sub(Money::new(1)).is_err());
    assert_eq!(Money::new(5).checked_sub(Money::new(7)), Ok(Money::new(-2)));
    assert!(Money::new(-2).is_negative());
    assert!(!Money::ZERO.is_negative());
}

#[test]
fn overflow_error_shows_the_operation() {
    let err = Money::new(i64::MAX).checked_add(Money::new(1)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "money overflow: 9223372036854775807 + 1 does not fit in 64-bit minor units"
    );
}

#[test]
fn amounts_are_strictly_positive() {
    assert_eq!(Amount::new(1).map(Amount::minor_units), Ok(1));
    assert_eq!(Amount::new(0), Err(MoneyError::NotPositive(0)));
    assert_eq!(Amount::new(-5), Err(MoneyError::NotPositive(-5)));
    assert_eq!(Money::from(Amount::MAX), Money::new(i64::MAX));
}

#[test]
fn amount_json_must_be_a_positive_integer() {
    assert_eq!(
        serde_json::from_str::<Amount>("500").unwrap(),
        Amount::new(500).unwrap()
    );
    for (json, needle) in [
        ("0", "amount must be a positive number"),
        ("-3", "amount must be a positive number"),
        ("10.5", "expected a positive integer amount"),
        ("1e3", "expected a positive integer amount"),
        ("\"5\"", "expected a positive integer amount"),
        (
            "9223372036854775808",
            "amount 9223372036854775808 is too large",
        ),
    ] {
        let err = serde_json::from_str::<Amount>(json)
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{json}: {err}");
    }
}

#[test]
fn money_json_is_a_plain_integer() {
    assert_eq!(serde_json::to_string(&Money::new(-250)).unwrap(), "-250");
    assert_eq!(
        serde_json::from_str::<Money>("-250").unwrap(),
        Money::new(-250)
    );
    let max = i64::MAX.to_string();
    assert_eq!(
        serde_json::from_str::<Money>(&max).unwrap(),
        Money::new(i64::MAX)
    );
    let err = serde_json::from_str::<Money>("2.5")
        .unwrap_err()
        .to_string();
    assert!(err.contains("expected an integer amount of money"), "{err}");
    let err = serde_json::from_str::<Money>("9223372036854775808")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("money 9223372036854775808 is too large"),
        "{err}"
    );
}

#[test]
fn currency_accepts_only_three_uppercase_letters() {
    assert_eq!(Currency::parse("EUR"), Ok(Currency::EUR));
    assert_eq!(Currency::EUR.to_string(), "EUR");
    for bad in ["", "EU", "EURO", "E1R", "ÄUR", " EUR"] {
        assert!(Currency::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn lowercase_currency_gets_a_hint() {
    let err = Currency::parse("eur").unwrap_err().to_string();
    assert!(err.contains("invalid currency \"eur\""), "{err}");
    assert!(err.contains("did you mean \"EUR\"?"), "{err}");
    let err = Currency::parse("EURO").unwrap_err().to_string();
    assert!(!err.contains("did you mean"), "{err}");
}

#[test]
fn currency_json_is_validated() {
    assert_eq!(serde_json::to_string(&Currency::GBP).unwrap(), "\"GBP\"");
    assert_eq!(
        serde_json::from_str::<Currency>("\"USD\"").unwrap(),
        Currency::USD
    );
    let err = serde_json::from_str::<Currency>("\"usd\"").unwrap_err();
    assert!(err.to_string().contains("invalid currency"), "{err}");
}
