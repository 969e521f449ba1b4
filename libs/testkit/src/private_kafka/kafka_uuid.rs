//! Kafka's own ids (cluster ids, directory ids) for a private cluster.

/// A Kafka `Uuid` in its text form: 16 random bytes, URL-safe base64 without
/// padding. Kafka refuses ids whose text starts with `-`.
pub(super) fn random_kafka_uuid() -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    loop {
        let bytes = uuid::Uuid::new_v4().into_bytes();
        let mut text = String::with_capacity(22);
        for chunk in bytes.chunks(3) {
            let word = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
            let chars = chunk.len() + 1;
            for i in 0..chars {
                text.push(char::from(ALPHABET[((word >> (18 - 6 * i)) & 63) as usize]));
            }
        }
        if !text.starts_with('-') {
            return text;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::random_kafka_uuid;

    #[test]
    fn kafka_uuids_are_22_url_safe_characters() {
        for _ in 0..100 {
            let id = random_kafka_uuid();
            assert_eq!(id.len(), 22, "{id}");
            assert!(!id.starts_with('-'));
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{id}"
            );
        }
    }
}
