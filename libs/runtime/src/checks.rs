//! The checks settings repeat, each with the one wording an operator sees for
//! it whichever service or section it is in.

use std::fmt::Display;

use crate::config::ConfigError;

/// `value` has something besides white space (a group name, a host list).
pub fn non_empty(field: &str, value: &str) -> Result<(), ConfigError> {
    if value.trim().is_empty() {
        return Err(ConfigError::invalid(field, "is empty"));
    }
    Ok(())
}

/// `value` is `min` or more.
pub fn at_least<T: PartialOrd + Display>(field: &str, value: T, min: T) -> Result<(), ConfigError> {
    if value < min {
        return Err(ConfigError::invalid(
            field,
            format!("must be at least {min}"),
        ));
    }
    Ok(())
}

/// `url` is in one of `schemes` (written with their `://`).
pub fn url_scheme(field: &str, url: &str, schemes: &[&str]) -> Result<(), ConfigError> {
    if !schemes.iter().any(|scheme| url.starts_with(scheme)) {
        return Err(ConfigError::invalid(
            field,
            format!("must start with {}", schemes.join(" or ")),
        ));
    }
    Ok(())
}

/// `path` names a file this process can read (a CA certificate): a typo is
/// reported at start, not as a failed handshake much later.
pub fn readable_file(field: &str, path: &std::path::Path) -> Result<(), ConfigError> {
    std::fs::File::open(path).map(drop).map_err(|err| {
        ConfigError::invalid(field, format!("cannot read {}: {err}", path.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_check_names_the_field_and_the_rule() {
        assert!(non_empty("a.group", "g").is_ok());
        let err = non_empty("a.group", "  ").unwrap_err();
        assert_eq!(err.to_string(), "invalid configuration: a.group: is empty");

        assert!(at_least("a.max_batch", 1_usize, 1).is_ok());
        let err = at_least("a.max_batch", 0_usize, 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid configuration: a.max_batch: must be at least 1"
        );

        let schemes = ["redis://", "rediss://"];
        assert!(url_scheme("r.url", "rediss://host", &schemes).is_ok());
        let err = url_scheme("r.url", "http://host", &schemes).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid configuration: r.url: must start with redis:// or rediss://"
        );
    }
}
