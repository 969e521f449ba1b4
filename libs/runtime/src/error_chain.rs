//! An error and its causes on one line, for logs and readiness reasons.
//!
//! Our errors keep their causes as `source()` instead of pasting them into
//! their own text, so a caller can still ask what went wrong underneath (a
//! Kafka error code, an I/O error). A log line wants all of it: [`Chain`]
//! prints the error, then each cause after a colon. Some wrappers (thiserror's
//! `"kafka: {0}"` style) already repeat their source in their own text; a
//! cause whose text the line already ends with is not printed twice.

use std::error::Error;
use std::fmt;

/// Displays `error: cause: cause's cause …`.
#[derive(Debug, Clone, Copy)]
pub struct Chain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line = self.0.to_string();
        let mut cause = self.0.source();
        while let Some(err) = cause {
            let text = err.to_string();
            if !line.ends_with(&text) {
                line.push_str(": ");
                line.push_str(&text);
            }
            cause = err.source();
        }
        f.write_str(&line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("reading the state topic")]
    struct Outer(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("loop: {0}")]
    struct Repeats(#[from] Outer);

    #[test]
    fn every_cause_is_on_the_line_once() {
        let io = std::io::Error::other("connection refused");
        let err = Repeats(Outer(io));
        assert_eq!(
            Chain(&err).to_string(),
            "loop: reading the state topic: connection refused"
        );
    }

    #[test]
    fn an_error_without_causes_is_itself() {
        let io = std::io::Error::other("broker gone");
        assert_eq!(Chain(&io).to_string(), "broker gone");
    }
}
