//! PostgreSQL connections.
//!
//! No pool: the consumer owns one connection (its transactions need it
//! exclusively), page reads share one more (tokio-postgres pipelines
//! concurrent queries on a connection, and the audit API is an operator's
//! tool, not a hot path), and a verify or reconcile scan opens a connection of
//! its own so a long scan never holds up anything else. A dropped connection
//! is replaced at the next use.

pub mod migrations;
mod tls;

pub use tls::SslMode;

use std::sync::Arc;
use std::time::Duration;

use postgres_native_tls::MakeTlsConnector;
use tokio::sync::Mutex;
use tokio_postgres::{Client, Config};

use crate::settings::PostgresSettings;

/// Bounds how long a connection attempt may hang on an unreachable server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("postgres.url is not a valid connection string: {0}")]
    Url(tokio_postgres::Error),
    /// The cause (a refused password, a certificate) is the source: log
    /// the whole chain.
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(#[source] tokio_postgres::Error),
    #[error("PostgreSQL: {0}")]
    Query(#[from] tokio_postgres::Error),
    #[error("postgres.ca_file {path} cannot be read: {source}")]
    CaFile {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("TLS for PostgreSQL cannot be set up: {0}")]
    Tls(#[source] native_tls::Error),
}

/// Opens connections to the audit schema.
#[derive(Clone)]
pub struct Db {
    config: Config,
    tls: MakeTlsConnector,
    schema: String,
    shared: Arc<Mutex<Option<Arc<Client>>>>,
}

// The config holds the password: only what identifies the database is shown.
eventbank_runtime::debug_fields!(Db { schema });

impl Db {
    /// Connections as `settings` describe them: URL, password, TLS mode and
    /// CA. The schema must be a plain identifier (settings validation checks
    /// it).
    pub fn new(settings: &PostgresSettings) -> Result<Self, DbError> {
        let mut config: Config = settings.url.parse().map_err(DbError::Url)?;
        config
            .connect_timeout(CONNECT_TIMEOUT)
            .application_name("audit-log");
        if let Some(password) = &settings.password {
            config.password(password.expose());
        }
        let tls = tls::connector(&mut config, settings.sslmode, settings.ca_file.as_deref())?;
        Ok(Self {
            config,
            tls,
            schema: settings.schema.clone(),
            shared: Arc::default(),
        })
    }

    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// A new connection whose `search_path` is the audit schema, so every
    /// query names tables unqualified.
    pub async fn connect(&self) -> Result<Client, DbError> {
        let (client, connection) = self
            .config
            .connect(self.tls.clone())
            .await
            .map_err(DbError::Connect)?;
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
