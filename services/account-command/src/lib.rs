//! account-command: Accepts commands over HTTP and turns them into events, exactly once: the single writer of `account-events`.
//!
//! A library with a thin `main`: [`App::build`] connects and binds, [`App::run`]
//! serves until the shutdown token is cancelled.

mod settings;

use std::net::SocketAddr;

use axum::Router;
use eventbank_runtime::Service;
use eventbank_runtime::http::HttpServer;
use eventbank_runtime::telemetry::TelemetrySettings;
use tokio_util::sync::CancellationToken;

pub use settings::*;

#[derive(Debug)]
pub struct App {
    http: HttpServer,
}

impl App {
    /// Where the HTTP server actually listens (port 0 in tests resolves here).
    pub fn http_addr(&self) -> std::io::Result<SocketAddr> {
        self.http.local_addr()
    }
}

impl Service for App {
    const NAME: &'static str = "account-command";
    type Settings = Settings;

    fn telemetry(settings: &Settings) -> &TelemetrySettings {
        &settings.telemetry
    }

    fn http_addr(settings: &Settings) -> SocketAddr {
        settings.http.bind
    }

    async fn build(settings: Settings) -> anyhow::Result<Self> {
        let http = HttpServer::bind(&settings.http, Self::NAME, env!("CARGO_PKG_VERSION")).await?;
        Ok(Self { http })
    }

    async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        self.http.serve(Router::new(), shutdown).await?;
        Ok(())
    }
}
