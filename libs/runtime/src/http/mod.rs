//! The HTTP side every service shares: the ops endpoints (`/healthz`, `/readyz`,
//! `/metrics`, `/topics`), bearer-token auth for the APIs, the JSON error
//! shape, the OpenAPI document (`/openapi.json`), and serving with graceful
//! shutdown.

pub mod auth;
mod error;
mod limits;
mod metric_set;
mod metrics;
pub mod openapi;
mod ops;
mod readiness;
mod request_metrics;
mod server;
mod store_calls;
mod topics;
mod trace;

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

pub use auth::{Auth, AuthSettings, Scope};
pub use error::{ApiError, json_fallback, json_method_not_allowed};
pub use limits::HttpLimits;
pub use metric_set::{Labels, labels};
pub use metrics::MetricsRegistry;
pub use ops::{OpsState, ops_router};
pub use readiness::{Readiness, ReadinessCheck, ReadinessReport};
pub use request_metrics::HttpMetrics;
pub use server::HttpServer;
pub use store_calls::StoreCalls;
pub use topics::{TopicEntry, TopicsReport};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// Address to listen on; port 0 picks a free port (tests).
    pub bind: SocketAddr,
    /// What the API takes on at once (see [`HttpLimits`]).
    #[serde(default)]
    pub limits: HttpLimits,
}

impl HttpSettings {
    pub fn on_port(port: u16) -> Self {
        Self {
            bind: SocketAddr::from(([0, 0, 0, 0], port)),
            limits: HttpLimits::default(),
        }
    }
}
