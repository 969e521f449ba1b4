//! TLS to PostgreSQL as libpq's `sslmode` describes it: `disable`, `prefer`
//! and `require` (encrypted if offered / always, the certificate not
//! checked), `verify-ca` (signed by `postgres.ca_file`), `verify-full` (and
//! naming the host connected to) — the one to use in production.

use std::path::Path;

use postgres_native_tls::MakeTlsConnector;
use serde::{Deserialize, Serialize};
use tokio_postgres::config::SslMode as WireMode;

use super::DbError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    /// Plaintext: only for a database on the same host or a private network.
    #[default]
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    /// Whether the server's certificate is checked against a CA.
    pub fn verifies(self) -> bool {
        matches!(self, Self::VerifyCa | Self::VerifyFull)
    }

    fn on_the_wire(self) -> WireMode {
        match self {
            Self::Disable => WireMode::Disable,
            Self::Prefer => WireMode::Prefer,
            Self::Require | Self::VerifyCa | Self::VerifyFull => WireMode::Require,
        }
    }
}

/// Sets `config`'s TLS mode and returns the connector that enforces the
/// rest of it (which certificate, which names).
pub(super) fn connector(
    config: &mut tokio_postgres::Config,
    mode: SslMode,
    ca_file: Option<&Path>,
) -> Result<MakeTlsConnector, DbError> {
    config.ssl_mode(mode.on_the_wire());
    let mut builder = native_tls::TlsConnector::builder();
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|source| DbError::CaFile {
            path: path.to_owned(),
            source,
        })?;
        builder
            .add_root_certificate(native_tls::Certificate::from_pem(&pem).map_err(DbError::Tls)?);
    }
    match mode {
        // libpq's meaning: encryption against eavesdroppers, not against a
        // server in the middle.
        SslMode::Disable | SslMode::Prefer | SslMode::Require => {
            builder.danger_accept_invalid_certs(true);
        }
        SslMode::VerifyCa => {
            builder.danger_accept_invalid_hostnames(true);
        }
        SslMode::VerifyFull => {}
    }
    Ok(MakeTlsConnector::new(
        builder.build().map_err(DbError::Tls)?,
    ))
}
