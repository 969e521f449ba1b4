//! PostgreSQL connections.
//!
//! No pool: the consumer owns one connection (its transactions need it
//! exclusively), page reads share one more (tokio-postgres pipelines
//! concurrent queries on a connection, and the audit API is an operator's
//! tool, not a hot path), and a verify or reconcile scan opens a connection of
//! its own so a long scan never holds up anything else. A dropped connection
//! is replaced at the next use.

pub mod migrations;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio_postgres::{Client, Config, NoTls};

/// Bounds how long a connection attempt may hang on an unreachable server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("postgres.url is not a valid connection string: {0}")]
    Url(tokio_postgres::Error),
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(tokio_postgres::Error),
    #[error("PostgreSQL: {0}")]
    Query(#[from] tokio_postgres::Error),
}

/// Opens connections to the audit schema.
#[derive(Debug, Clone)]
pub struct Db {
    config: Config,
    schema: String,
    shared: Arc<Mutex<Option<Arc<Client>>>>,
}

impl Db {
    /// `schema` must be a plain identifier (settings validation checks it).
    pub fn new(url: &str, schema: &str) -> Result<Self, DbError> {
        let mut config: Config = url.parse().map_err(DbError::Url)?;
        config
            .connect_timeout(CONNECT_TIMEOUT)
            .application_name("audit-log");
        Ok(Self {
            config,
            schema: schema.to_owned(),
            shared: Arc::default(),
        })
    }

    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// A new connection whose `search_path` is the audit schema, so every
    /// query names tables unqualified.
    pub async fn connect(&self) -> Result<Client, DbError> {
        let (client, connection) = self.config.connect(NoTls).await.map_err(DbError::Connect)?;
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::warn!(error = %err, "PostgreSQL connection closed");
            }
        });
        client
            .batch_execute(&format!("SET search_path TO {}", self.schema))
            .await?;
        Ok(client)
    }

    /// The connection shared by page reads and health checks, reconnected
    /// if it was lost.
    pub async fn shared(&self) -> Result<Arc<Client>, DbError> {
        let mut shared = self.shared.lock().await;
        if let Some(client) = shared.as_ref().filter(|client| !client.is_closed()) {
            return Ok(Arc::clone(client));
        }
        let client = Arc::new(self.connect().await?);
        *shared = Some(Arc::clone(&client));
        Ok(client)
    }
}
