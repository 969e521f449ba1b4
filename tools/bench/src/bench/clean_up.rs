//! Deleting what a run left behind: its topics, consumer groups, Redis keys
//! and PostgreSQL schema, all under the run's own prefix.

use balance_projector::store::KeyScan;

use super::Bench;
use crate::kafka;

impl Bench {
    /// Deletes this run's topics, consumer groups, Redis keys and schema.
    pub(super) async fn clean_up(&self) -> anyhow::Result<()> {
        let kafka = self.kafka("");
        let topics = kafka::delete_prefixed(&kafka, &self.prefix).await?;
        let groups = kafka::delete_groups_prefixed(&kafka, &self.prefix).await?;
        let keys = delete_redis_keys(&self.config.redis, &self.redis_prefix(&self.prefix)).await?;
        drop_schema(&self.config.postgres, &self.schema()).await?;
        println!(
            "[bench] deleted {topics} topics, {groups} consumer groups, {keys} Redis keys, schema {}",
            self.schema()
        );
        Ok(())
    }
}

/// Deletes every Redis key under `prefix`; how many.
async fn delete_redis_keys(url: &str, prefix: &str) -> anyhow::Result<u64> {
    let client = redis::Client::open(url)?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let mut scan = KeyScan::prefixed(prefix, 1000);
    let mut deleted = 0u64;
    while let Some(keys) = scan.next_page(&mut conn).await? {
        if !keys.is_empty() {
            let n: u64 = redis::cmd("UNLINK")
                .arg(&keys)
                .query_async(&mut conn)
                .await?;
            deleted += n;
        }
    }
    Ok(deleted)
}

async fn drop_schema(url: &str, schema: &str) -> anyhow::Result<()> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let connection = tokio::spawn(connection);
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await?;
    drop(client);
    let _ = connection.await;
    Ok(())
}
