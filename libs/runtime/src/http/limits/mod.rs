//! What one API will take on at once, so a flood from one client (or from
//! all of them) is refused at the door instead of queueing until every
//! caller times out: at most `max_in_flight` requests in all (more: 503
//! `overloaded`), at most `max_in_flight_per_client` from one address (more:
//! 429 `too_many_requests`), each answered within `request_timeout_ms` (or
//! 503 `request_timeout`). Refusals carry `Retry-After: 1`. The ops
//! endpoints are not limited: a probe must reach a busy service.
//!
//! Clients are told apart by their peer address: behind a proxy that is the
//! proxy's, so the per-client limit then bounds the proxy as a whole.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::ApiError;

/// The `http` settings' limits (defaults suit one instance of a service on
/// a small node; `max_body_bytes` is account-command's `api.max_body_bytes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpLimits {
    pub request_timeout_ms: u64,
    pub max_in_flight: usize,
    pub max_in_flight_per_client: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            request_timeout_ms: 30_000,
            max_in_flight: 1_024,
            max_in_flight_per_client: 256,
        }
    }
}

/// The limiter every API route passes through (see [`enforce`]).
#[derive(Debug, Clone)]
pub struct Limiter {
    all: Arc<Semaphore>,
    per_client: Arc<Mutex<HashMap<IpAddr, usize>>>,
    max_per_client: usize,
    timeout: Duration,
}

impl Limiter {
    pub fn new(limits: &HttpLimits) -> Self {
        Self {
            all: Arc::new(Semaphore::new(limits.max_in_flight)),
            per_client: Arc::default(),
            max_per_client: limits.max_in_flight_per_client,
            timeout: Duration::from_millis(limits.request_timeout_ms),
        }
    }

    /// A place for one more request of `client`, or `None` if it has its
    /// share in flight already.
    fn enter(&self, client: IpAddr) -> Option<ClientSlot> {
        let mut counts = self
            .per_client
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(client).or_insert(0);
        if *count >= self.max_per_client {
            return None;
        }
        *count += 1;
        Some(ClientSlot {
            client,
            counts: Arc::clone(&self.per_client),
        })
    }
}

/// One request of a client in flight; leaving frees its place.
struct ClientSlot {
    client: IpAddr,
    counts: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.client);
            }
        }
    }
}

/// The middleware: refuse, or run the request under the timeout.
pub async fn enforce(State(limiter): State<Limiter>, request: Request, next: Next) -> Response {
    let Ok(_place): Result<OwnedSemaphorePermit, _> = Arc::clone(&limiter.all).try_acquire_owned()
    else {
        return refused(ApiError::unavailable(
            "overloaded",
            "the service has as many requests in flight as it takes; retry shortly",
        ));
    };
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    let _slot = match peer {
        Some(client) => match limiter.enter(client) {
            Some(slot) => Some(slot),
            None => {
                return refused(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_requests",
                    format!(
                        "{client} has {} requests in flight, as many as one client may; retry when one is answered",
                        limiter.max_per_client
                    ),
                ));
            }
        },
        None => None,
    };
    match tokio::time::timeout(limiter.timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => refused(ApiError::unavailable(
            "request_timeout",
            format!(
                "no answer within {} ms; a command's outcome may still come (GET /commands/{{id}}, or retry with the same Idempotency-Key)",
                limiter.timeout.as_millis()
            ),
        )),
    }
}

fn refused(error: ApiError) -> Response {
    let mut response = error.into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

#[cfg(test)]
mod tests;
