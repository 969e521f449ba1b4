//! The Redis client the settings describe: `redis://` or `rediss://` (TLS,
//! the server's certificate checked against `redis.ca_file` or the system's
//! trust store, host name included), logging in as an ACL user with a
//! password kept out of the URL if wanted.

use redis::{IntoConnectionInfo, TlsCertificates};

use super::StoreError;
use crate::settings::RedisSettings;

impl RedisSettings {
    /// A client (it connects only when asked to).
    pub fn client(&self) -> Result<redis::Client, StoreError> {
        let info = self.url.as_str().into_connection_info()?;
        let mut login = info.redis_settings().clone();
        if let Some(username) = &self.username {
            login = login.set_username(username);
        }
        if let Some(password) = &self.password {
            login = login.set_password(password.expose());
        }
        let info = info.set_redis_settings(login);
        match &self.ca_file {
            None => Ok(redis::Client::open(info)?),
            Some(path) => {
                let root_cert = std::fs::read(path).map_err(|source| StoreError::CaFile {
                    path: path.clone(),
                    source,
                })?;
                let certificates = TlsCertificates {
                    client_tls: None,
                    root_cert: Some(root_cert),
                };
                Ok(redis::Client::build_with_tls(info, certificates)?)
            }
        }
    }
}
