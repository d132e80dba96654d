//! Extractors whose rejections are JSON [`ApiError`]s with stable codes instead of axum's
//! plain-text ones (the codes are in `error.rs`).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::ApiError;
use super::rate_limit::client_ip;

/// `Json<T>` with JSON errors.
pub struct ApiJson<T>(pub T);

/// `Query<T>` whose rejection is 422 `validation`.
pub struct ApiQuery<T>(pub T);

/// `Path<T>` whose rejection is 404 `not_found`.
pub struct ApiPath<T>(pub T);

/// The raw body (for hashing and replay), with 413 `payload_too_large` as JSON.
pub struct ApiBytes(pub axum::body::Bytes);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(ApiJson(axum::Json::<T>::from_request(req, state).await?.0))
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(ApiQuery(
            axum::extract::Query::<T>::from_request_parts(parts, state)
                .await?
                .0,
        ))
    }
}

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(ApiPath(
            axum::extract::Path::<T>::from_request_parts(parts, state)
                .await?
                .0,
        ))
    }
}

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(ApiBytes(axum::body::Bytes::from_request(req, state).await?))
    }
}

/// The address a request really comes from: the socket peer, or the client a trusted proxy
/// names (`server.trusted_proxies`); unspecified when the connection has no peer address.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(SocketAddr::from(([0, 0, 0, 0], 0)), |c| c.0);
        Ok(ClientIp(client_ip(
            peer,
            &parts.headers,
            &state.app.settings.trusted_proxies,
        )))
    }
}

/// Parses a JSON body already read as bytes (when the raw bytes are needed too).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    Ok(serde_json::from_slice(bytes)?)
}
