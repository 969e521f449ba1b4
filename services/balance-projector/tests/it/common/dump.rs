//! A generation's keys read back whole, to compare two read models.

use std::collections::BTreeMap;

use balance_projector::store::KeyScan;

use super::redis_connection;

/// A Redis value, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dumped {
    String(String),
    Hash(BTreeMap<String, String>),
    /// Members with their scores, in Redis' order (score, then member).
    SortedSet(Vec<(String, String)>),
    Other(String),
}

/// Every key under `prefix` (stripped from the names), with its value.
pub async fn dump(prefix: &str) -> BTreeMap<String, Dumped> {
    let mut conn = redis_connection().await;
    let mut keys: Vec<String> = Vec::new();
    let mut scan = KeyScan::prefixed(prefix, 1000);
    while let Some(page) = scan.next_page(&mut conn).await.unwrap() {
        keys.extend(page);
    }
    keys.sort();
    keys.dedup();
    let mut out = BTreeMap::new();
    for key in keys {
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        let value = match kind.as_str() {
            "string" => Dumped::String(read(&mut conn, redis::cmd("GET").arg(&key)).await),
            "hash" => Dumped::Hash(read(&mut conn, redis::cmd("HGETALL").arg(&key)).await),
            "zset" => Dumped::SortedSet(
                read(
                    &mut conn,
                    redis::cmd("ZRANGE")
                        .arg(&key)
                        .arg(0)
                        .arg(-1)
                        .arg("WITHSCORES"),
                )
                .await,
            ),
            other => Dumped::Other(other.to_owned()),
        };
        out.insert(key[prefix.len()..].to_owned(), value);
    }
    out
}

async fn read<T: redis::FromRedisValue>(
    conn: &mut redis::aio::MultiplexedConnection,
    command: &redis::Cmd,
) -> T {
    command.query_async(conn).await.unwrap()
}

/// Asserts two dumps are equal, naming the first differences.
pub fn assert_same(live: &BTreeMap<String, Dumped>, fresh: &BTreeMap<String, Dumped>) {
    let mut differences = Vec::new();
    for key in live.keys().chain(fresh.keys()) {
        let (a, b) = (live.get(key), fresh.get(key));
        if a != b && !differences.iter().any(|(k, _, _)| k == key) {
            differences.push((key.clone(), a.cloned(), b.cloned()));
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {}/{} keys differ (left vs right); first: {:#?}",
        differences.len(),
        live.len(),
        fresh.len(),
        &differences[..differences.len().min(5)]
    );
    assert!(!live.is_empty());
}
