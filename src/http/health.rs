//! Liveness and readiness, and the Prometheus endpoint. The health policy is
//! `app::health`; this file answers it over HTTP.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::auth::bearer;
use super::error::ApiError;
use super::extract::ClientIp;
use crate::app::health::{self, Health};
use crate::secret::{matches_sha256, sha256_hex};

/// Health of the store, the writer, the scheduler, the disk, iCal sync and Mercado Pago. 200
/// when healthy or degraded, 503 when unhealthy.
#[utoipa::path(get, path = "/api/v1/healthz", tag = "ops",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let health = health::check(&state.app);
    let code = if health.status == "unhealthy" {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (code, Json(health))
}

#[derive(Serialize, ToSchema)]
pub struct Ready {
    ready: bool,
}

/// 200 once the store is open and the server accepts work; 503 while shutting down or when
/// the store cannot be read.
#[utoipa::path(get, path = "/api/v1/readyz", tag = "ops",
    responses((status = 200, body = Ready), (status = 503, body = Ready)))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Ready>) {
    let store = &state.app.store;
    let ready = state.is_ready() && store.is_writable() && store.read(|_| Ok(())).is_ok();
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(Ready { ready }))
}

/// Prometheus text exposition; requires `Bearer <metrics.token>` when one is configured, and
/// without one answers only clients on this machine (loopback, after `X-Forwarded-For` from
/// a trusted proxy): a listener on a public address must not publish the metrics.
pub async fn metrics(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
) -> Response {
    match &state.app.settings.metrics_token {
        Some(expected) => {
            let ok = bearer(&headers).is_some_and(|t| matches_sha256(t, &sha256_hex(expected)));
            if !ok {
                return ApiError::unauthorized().into_response();
            }
        }
        None if !client.to_canonical().is_loopback() => {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "metrics_forbidden",
                "without metrics.token, /metrics answers only this machine; set metrics.token",
            )
            .into_response();
        }
        None => {}
    }
    health::record(&state.app);
    crate::telemetry::process::record();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
