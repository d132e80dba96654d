//! The JSON error every endpoint answers with: `{"error": "<stable_code>", "detail": "..."}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::stay::StayError;
use crate::store::StoreError;

/// An error response: status, stable machine-readable code, human-readable detail.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
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

    /// The JSON text of the body, for responses that are stored and replayed.
    pub fn body_json(&self) -> String {
        serde_json::to_string(&ErrorBody {
            error: self.code,
            detail: self.detail.clone(),
        })
        .expect("error bodies serialize")
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
        if retry && !response.headers().contains_key(header::RETRY_AFTER) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if crate::store::means_no_space(&e) {
            return Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_full",
                "the server's disk is full; nothing was changed, retry later",
            );
        }
        match e {
            StoreError::Busy => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "the server is busy, retry shortly",
            ),
            e if e.is_unavailable() => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the store is not taking writes (shutting down or failed)",
            ),
            StoreError::LockTimeout | StoreError::BatchAborted => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "lock_timeout",
                "could not get the store in time, retry shortly",
            ),
            other => {
                tracing::error!(error = %other, "store failure");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; it has been logged",
                )
            }
        }
    }
}

impl From<StayError> for ApiError {
    fn from(e: StayError) -> Self {
        let code = match e {
            StayError::InvalidDates | StayError::TooLong { .. } => "invalid_dates",
            StayError::PastDates => "past_dates",
            StayError::InvalidGuests => "invalid_guests",
            StayError::CapacityExceeded { .. } => "capacity_exceeded",
            StayError::MinStay { .. } => "min_stay",
        };
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, e.to_string())
    }
}
