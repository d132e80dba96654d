//! The JSON error every endpoint answers with, `{"error": "<stable_code>", "detail": "..."}`,
//! and every mapping of an application, domain or store error (in `codes.rs`) and of a
//! rejected request (here) to its status and stable code: the one place those contracts are
//! written.

use axum::Json;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::body_deadline;

mod codes;

/// An error response: status, stable machine-readable code, human-readable detail.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    /// Seconds for `Retry-After` (429 and 503 say 1 when not set).
    pub retry_after: Option<u64>,
}

/// The body of every error response.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable code, e.g. `date_overlap`.
    pub error: &'static str,
    pub detail: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            retry_after: None,
        }
    }

    pub fn validation(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", detail)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid Authorization: Bearer token is required",
        )
    }

    /// A cookie-authenticated request that changes state without its session's CSRF token.
    pub fn csrf_invalid() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "csrf_invalid",
            "this request needs the session's X-CSRF-Token header",
        )
    }

    pub fn not_found(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, detail)
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    /// 404 `accommodation_not_found`.
    pub fn no_accommodation(detail: impl Into<String>) -> Self {
        Self::not_found("accommodation_not_found", detail)
    }

    /// 404 `reservation_not_found`.
    pub fn no_reservation(detail: impl Into<String>) -> Self {
        Self::not_found("reservation_not_found", detail)
    }

    /// 404 `conversation_not_found`.
    pub fn no_conversation() -> Self {
        Self::not_found(
            "conversation_not_found",
            "no WhatsApp conversation with that number",
        )
    }

    /// 408 `body_timeout`: the body did not arrive within `server.body_read_timeout`.
    fn body_timeout() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            "the request body did not arrive within server.body_read_timeout",
        )
    }

    fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; it has been logged",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry = matches!(
            self.status,
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS
        );
        let mut response = (
            self.status,
            Json(ErrorBody {
                error: self.code,
                detail: self.detail,
            }),
        )
            .into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        } else if retry && !response.headers().contains_key(header::RETRY_AFTER) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// A JSON body axum refused: 400 `invalid_json`, 413 `payload_too_large`,
/// 415 `unsupported_media_type`, 422 `validation`.
impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        if body_deadline::timed_out(&rejection) {
            return Self::body_timeout();
        }
        let code = match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::BAD_REQUEST => "invalid_json",
            _ => "validation",
        };
        Self::new(rejection.status(), code, rejection.body_text())
    }
}

/// A JSON body read as bytes that does not parse (400 `invalid_json`) or does not fit the
/// request's shape (422 `validation`).
impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        if e.is_syntax() || e.is_eof() {
            Self::new(StatusCode::BAD_REQUEST, "invalid_json", e.to_string())
        } else {
            Self::validation(e.to_string())
        }
    }
}

/// A query string that does not fit: 422 `validation`.
impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        Self::validation(e.body_text())
    }
}

/// A path that does not fit: 404 `not_found`.
impl From<PathRejection> for ApiError {
    fn from(e: PathRejection) -> Self {
        Self::not_found("not_found", e.body_text())
    }
}

/// A body that cannot be read: 413 `payload_too_large`, or `invalid_body`.
impl From<BytesRejection> for ApiError {
    fn from(e: BytesRejection) -> Self {
        if body_deadline::timed_out(&e) {
            return Self::body_timeout();
        }
        let code = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            "payload_too_large"
        } else {
            "invalid_body"
        };
        Self::new(e.status(), code, e.body_text())
    }
}
