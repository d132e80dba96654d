//! Admin authentication: `Authorization: Bearer <session token>` from `POST /admin/login`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use super::AppState;
use super::error::ApiError;

/// The `Bearer` token of a request, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 256)
}

/// A request made by a logged-in admin. Extracting it answers 401 otherwise.
pub struct AdminAuth {
    pub email: String,
    pub token: String,
}

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers).ok_or_else(ApiError::unauthorized)?;
        let session = state
            .store
            .session(token)?
            .ok_or_else(ApiError::unauthorized)?;
        Ok(AdminAuth {
            email: session.email,
            token: token.to_owned(),
        })
    }
}

/// Whether the request carries a live admin session (without rejecting it otherwise).
pub fn admin_email(state: &AppState, headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(token) = bearer(headers) else {
        return Ok(None);
    };
    Ok(state.store.session(token)?.map(|s| s.email))
}

/// A request from an operator: a logged-in admin, or a local tool holding the control file's
/// token (the `backup` verb). Extracting it answers 401 otherwise.
pub struct OperatorAuth;

impl FromRequestParts<AppState> for OperatorAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers).ok_or_else(ApiError::unauthorized)?;
        if crate::secret::matches_sha256(token, &state.ops.control_token_sha256)
            || state.store.session(token)?.is_some()
        {
            Ok(OperatorAuth)
        } else {
            Err(ApiError::unauthorized())
        }
    }
}
