//! Walking the keys under a prefix with SCAN, a page at a time: never KEYS,
//! which blocks Redis for the whole keyspace. Deleting an old generation,
//! the benchmark's clean-up and the tests' dumps all walk keys this way.

use redis::RedisResult;
use redis::aio::ConnectionLike;

/// A SCAN over the keys under one prefix.
#[derive(Debug, Clone)]
pub struct KeyScan {
    pattern: String,
    count: usize,
    cursor: u64,
    done: bool,
}

impl KeyScan {
    /// Keys starting with `prefix` (glob characters in it match only
    /// themselves), asking for about `count` per page.
    pub fn prefixed(prefix: &str, count: usize) -> Self {
        Self {
            pattern: format!("{}*", glob_escape(prefix)),
            count: count.max(1),
            cursor: 0,
            done: false,
        }
    }

    /// The next page of keys (possibly empty, and SCAN may return a key
    /// twice); `None` once the scan is complete.
    pub async fn next_page<C: ConnectionLike>(
        &mut self,
        conn: &mut C,
    ) -> RedisResult<Option<Vec<String>>> {
        if self.done {
            return Ok(None);
        }
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(self.cursor)
            .arg("MATCH")
            .arg(&self.pattern)
            .arg("COUNT")
            .arg(self.count)
            .query_async(conn)
            .await?;
        self.cursor = next;
        self.done = next == 0;
        Ok(Some(keys))
    }
}

/// `text` matching only itself in a Redis glob pattern.
fn glob_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::glob_escape;

    #[test]
    fn a_key_prefix_matches_only_itself_in_a_scan_pattern() {
        assert_eq!(glob_escape("eventbank:g1:"), "eventbank:g1:");
        assert_eq!(glob_escape("t*[1]?\\:"), "t\\*\\[1\\]\\?\\\\:");
    }
}
