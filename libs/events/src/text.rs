//! Bounding user-controlled text before it goes into error messages.

/// Returns at most `max_chars` characters of `input`, marking a cut with `…`.
///
/// Error messages end up in logs, HTTP bodies and Kafka headers; echoing a
/// multi-megabyte string back would make the error itself the problem.
pub(crate) fn excerpt(input: &str, max_chars: usize) -> String {
    match input.char_indices().nth(max_chars) {
        None => input.to_owned(),
        Some((cut, _)) => format!("{}…", &input[..cut]),
    }
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    #[test]
    fn short_input_is_kept_whole() {
        assert_eq!(excerpt("abc", 3), "abc");
    }

    #[test]
    fn long_input_is_cut_on_a_char_boundary() {
        assert_eq!(excerpt("äöüß", 2), "äö…");
    }
}
