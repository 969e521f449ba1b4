//! A service's HTTP listener, bound when the service is built (a port in use
//! fails the build; port 0's address is known before serving), served until
//! shutdown.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use utoipa_axum::router::OpenApiRouter;

use super::limits::{self, Limiter};
use super::{
    Auth, HttpLimits, HttpMetrics, HttpSettings, MetricsRegistry, OpsState, Readiness,
    json_fallback, json_method_not_allowed, openapi, ops_router,
};

/// A service's HTTP listener, bound at build time, with the ops state the
/// service's components report into and the tokens its API accepts.
#[derive(Debug)]
pub struct HttpServer {
    listener: TcpListener,
    pub ops: OpsState,
    auth: Auth,
    limits: HttpLimits,
    service: String,
    version: String,
}

impl HttpServer {
    pub async fn bind(
        settings: &HttpSettings,
        auth: Auth,
        service: &str,
        version: &str,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(settings.bind).await?;
        Ok(Self {
            listener,
            auth,
            limits: settings.limits,
            ops: OpsState {
                readiness: Readiness::new(),
                metrics: MetricsRegistry::new(service, version),
                topics: Default::default(),
                openapi: Default::default(),
            },
            service: service.to_owned(),
            version: version.to_owned(),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The tokens the API accepts: the service guards its routes with
    /// [`Auth::protect`] when it builds its router.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// Serves the service's own `api` routes plus the ops endpoints until
    /// `shutdown`, and at `/openapi.json` the document of them all; unknown
    /// routes and unsupported methods answer with the JSON error shape.
    pub async fn serve(
        mut self,
        api: OpenApiRouter,
        shutdown: CancellationToken,
    ) -> std::io::Result<()> {
        let (api, doc) = api.split_for_parts();
        let doc = openapi::document(&self.service, &self.version, doc);
        self.ops.openapi = std::sync::Arc::new(serde_json::to_value(&doc).unwrap_or_default());
        let requests = HttpMetrics::register(&self.ops.metrics);
        // Limits on the API only: a probe must reach a busy service.
        let api = api.layer(axum::middleware::from_fn_with_state(
            Limiter::new(&self.limits),
            limits::enforce,
        ));
        let mut router = api
            .merge(ops_router(self.ops, &self.auth))
            .fallback(json_fallback)
            .method_not_allowed_fallback(json_method_not_allowed);
        router = router.layer(axum::middleware::from_fn_with_state(
            requests,
            super::request_metrics::record,
        ));
        if crate::telemetry::enabled() {
            router = router.layer(axum::middleware::from_fn(super::trace::request_span));
        }
        // The peer address tells clients apart for the per-client limit.
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
    }
}
