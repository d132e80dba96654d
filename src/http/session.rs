//! Admin sessions: log in for a bearer token (the API) or an HttpOnly, SameSite=Strict cookie
//! (the web UI, which then learns its CSRF token), and log out.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::auth::{AdminAuth, SESSION_COOKIE, csrf_token};
use super::error::{ApiError, ErrorBody};
use super::extract::ApiJson;
use crate::secret::random_hex;
use crate::store::AdminSession;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    email: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginView {
    /// Send as `Authorization: Bearer <token>`.
    token: String,
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
}

/// Exchanges an admin's email and password for a session token. Password checks run a few at
/// a time: a login that waits too long gets 503 `login_busy`.
#[utoipa::path(post, path = "/api/v1/admin/login", tag = "admin", request_body = LoginBody,
    responses((status = 200, body = LoginView), (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Json<LoginView>, ApiError> {
    let (token, session) = open_session(&state, body).await?;
    Ok(Json(LoginView {
        token,
        expires_at: session.expires_at,
    }))
}

/// Checks an admin's password and opens a session: its token and record.
async fn open_session(
    state: &AppState,
    body: LoginBody,
) -> Result<(String, AdminSession), ApiError> {
    let email = state.app.logins.verify(&body.email, body.password).await?;
    let token = random_hex(32);
    let session = state
        .app
        .store
        .create_session(&token, email, state.app.settings.session_ttl)
        .await?;
    Ok((token, session))
}

/// Ends the current session: its token stops working at once.
#[utoipa::path(post, path = "/api/v1/admin/logout", tag = "admin", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    admin: AdminAuth,
) -> Result<StatusCode, ApiError> {
    state.app.store.delete_session(&admin.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    current_password: String,
    /// At least 12 characters, not a common password.
    new_password: String,
}

/// Changes the logged-in admin's password (the session stays valid).
#[utoipa::path(post, path = "/api/v1/admin/password", tag = "admin", security(("bearer" = [])),
    request_body = PasswordBody,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    admin: AdminAuth,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .logins
        .change_password(&admin.email, body.current_password, body.new_password)
        .await?;
    crate::first_admin::forget(&state.app.settings.data_dir, &admin.email);
    Ok(StatusCode::NO_CONTENT)
}

/// The logged-in admin as the web UI sees it.
#[derive(Serialize, ToSchema)]
pub struct SessionView {
    email: String,
    /// Send as `X-CSRF-Token` with every request that changes state.
    csrf_token: String,
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
}

/// Whether the browser reached us over plain HTTP on this machine (`localhost`, `127.0.0.1`,
/// `[::1]`), the one case where the cookie cannot be `Secure`.
fn plain_loopback(headers: &HeaderMap) -> bool {
    let forwarded_https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    let loopback = name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    loopback && !forwarded_https
}

fn cookie(headers: &HeaderMap, value: &str, max_age_s: u64) -> HeaderValue {
    let secure = if plain_loopback(headers) {
        ""
    } else {
        "; Secure"
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{secure}"
    ))
    .expect("a hex token makes a valid header value")
}

/// Logs in: sets the session cookie and returns the CSRF token.
#[utoipa::path(post, path = "/api/v1/admin/session", tag = "admin", request_body = LoginBody,
    responses((status = 200, body = SessionView), (status = 401, body = ErrorBody)))]
pub async fn create_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, ApiError> {
    let (token, session) = open_session(&state, body).await?;
    let view = SessionView {
        csrf_token: csrf_token(&token),
        email: session.email,
        expires_at: session.expires_at,
    };
    let max_age = state.app.settings.session_ttl.as_secs();
    Ok((
        [(header::SET_COOKIE, cookie(&headers, &token, max_age))],
        Json(view),
    )
        .into_response())
}

/// The current session (cookie or bearer), with its CSRF token.
#[utoipa::path(get, path = "/api/v1/admin/session", tag = "admin",
    responses((status = 200, body = SessionView), (status = 401, body = ErrorBody)))]
pub async fn current_session(admin: AdminAuth) -> Json<SessionView> {
    Json(SessionView {
        csrf_token: csrf_token(&admin.token),
        email: admin.email,
        expires_at: admin.expires_at,
    })
}

/// Logs out: the session ends at once and the cookie is cleared.
#[utoipa::path(delete, path = "/api/v1/admin/session", tag = "admin",
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn delete_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    admin: AdminAuth,
) -> Result<Response, ApiError> {
    state.app.store.delete_session(&admin.token).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, cookie(&headers, "", 0))],
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(host: &str, proto: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, host.parse().unwrap());
        if let Some(p) = proto {
            h.insert("x-forwarded-proto", p.parse().unwrap());
        }
        h
    }

    #[test]
    fn cookie_is_secure_unless_plain_http_on_loopback() {
        for host in ["127.0.0.1:8080", "localhost", "[::1]:8080", "LOCALHOST:1"] {
            assert!(plain_loopback(&with(host, None)), "{host}");
        }
        assert!(!plain_loopback(&with("127.0.0.1:8080", Some("https"))));
        assert!(!plain_loopback(&with("cabanas.example.com", None)));
        assert!(!plain_loopback(&with("10.0.0.2:8080", None)));
        assert!(!plain_loopback(&HeaderMap::new()));
        let c = cookie(&with("cabanas.example.com", None), "t", 60);
        assert_eq!(
            c,
            "alojamientos_session=t; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure"
        );
    }
}
