//! Shared runtime for the eventbank services: layered configuration (figment),
//! logging, Kafka client construction and topic setup, the ops HTTP endpoints
//! (`/healthz`, `/readyz`, `/metrics`), bearer-token auth for the APIs, JSON
//! errors, and graceful shutdown.
//!
//! Everything two services would otherwise each write lives here, once.

pub mod checks;
pub mod config;
pub mod debug_fields;
pub mod error_chain;
pub mod http;
pub mod kafka;
pub mod secret;
pub mod service;
mod service_settings;
mod settings_section;
pub mod shutdown;
pub mod supervisor;
pub mod telemetry;

pub use config::{ConfigError, Validate};
pub use service::Service;
