//! Admin authentication: `Authorization: Bearer <session token>` from `POST /admin/login`, or
//! the web UI's session cookie from `POST /admin/session`. A cookie is sent by the browser on
//! its own, so a request authenticated by it that changes state must also carry the session's
//! CSRF token in `X-CSRF-Token`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, header};

use super::AppState;
use super::error::ApiError;
use super::input::reservation_code;
use crate::domain::reservation::{Actor, Reservation};
use crate::secret::{constant_time_eq, sha256_hex};

/// The web UI's session cookie.
pub const SESSION_COOKIE: &str = "alojamientos_session";

/// The header that carries the CSRF token of a cookie session.
pub const CSRF_HEADER: HeaderName = HeaderName::from_static("x-csrf-token");

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

/// The session cookie's value, if the request carries one.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|t| !t.is_empty() && t.len() <= 256)
}

/// The CSRF token that goes with a session token: derived from it, so it needs no storage
/// and a page can only learn it from `GET /admin/session` (same origin, cookie attached).
pub fn csrf_token(session_token: &str) -> String {
    sha256_hex(&format!("csrf:{session_token}"))
}

/// Whether the request's `X-CSRF-Token` matches the session.
fn csrf_ok(headers: &HeaderMap, session_token: &str) -> bool {
    headers
        .get(&CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|sent| constant_time_eq(sent.as_bytes(), csrf_token(session_token).as_bytes()))
}

/// A request made by a logged-in admin. Extracting it answers 401 otherwise, and 403
/// `csrf_invalid` for a cookie-authenticated request that changes state without the token.
pub struct AdminAuth {
    pub email: String,
    pub token: String,
    pub expires_at: jiff::Timestamp,
}

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (token, by_cookie) = match bearer(&parts.headers) {
            Some(token) => (token, false),
            None => (
                session_cookie(&parts.headers).ok_or_else(ApiError::unauthorized)?,
                true,
            ),
        };
        let session = state
            .app
            .store
            .session(token)?
            .ok_or_else(ApiError::unauthorized)?;
        if by_cookie && !parts.method.is_safe() && !csrf_ok(&parts.headers, token) {
            return Err(ApiError::csrf_invalid());
        }
        Ok(AdminAuth {
            email: session.email,
            token: token.to_owned(),
            expires_at: session.expires_at,
        })
    }
}

/// Who may see a reservation: an admin, or the guest holding its access token. Anything
/// else gets 401 (no credentials) or 404 (wrong ones), never a hint that the code exists.
pub fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    code: &str,
) -> Result<(Reservation, Actor), ApiError> {
    const NOT_FOUND: &str = "no reservation with that code for these credentials";
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    let booking = &state.app.booking;
    if let Some(session) = state.app.store.session(token)? {
        let code = reservation_code(code, NOT_FOUND)?;
        let r = booking
            .reservation(&code)?
            .ok_or_else(|| ApiError::no_reservation(NOT_FOUND))?;
        return Ok((
            r,
            Actor::Admin {
                email: session.email,
            },
        ));
    }
    let code = reservation_code(code, NOT_FOUND)?;
    let r = booking
        .for_guest(&code, token)?
        .ok_or_else(|| ApiError::no_reservation(NOT_FOUND))?;
    Ok((r, Actor::Guest))
}

/// A request from an operator: a logged-in admin, or a local tool holding the control file's
/// token (the `backup` verb). Extracting it answers 401 otherwise.
pub struct OperatorAuth;

impl FromRequestParts<AppState> for OperatorAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers).ok_or_else(ApiError::unauthorized)?;
        if crate::secret::matches_sha256(token, &state.control_token_sha256)
            || state.app.store.session(token)?.is_some()
        {
            Ok(OperatorAuth)
        } else {
            Err(ApiError::unauthorized())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn finds_the_session_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; alojamientos_session=abc ; b=2"),
        );
        assert_eq!(session_cookie(&h), Some("abc"));
        let mut other = HeaderMap::new();
        other.append(
            header::COOKIE,
            HeaderValue::from_static("alojamientos_sessionx=abc"),
        );
        assert_eq!(session_cookie(&other), None);
    }

    #[test]
    fn csrf_token_is_bound_to_its_session() {
        let mut h = HeaderMap::new();
        h.insert(&CSRF_HEADER, csrf_token("s1").parse().unwrap());
        assert!(csrf_ok(&h, "s1"));
        assert!(!csrf_ok(&h, "s2"));
        assert!(!csrf_ok(&HeaderMap::new(), "s1"));
    }
}
