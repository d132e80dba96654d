//! Parsing what requests carry into domain values: dates, guests, reservation codes and the
//! optional `{"reason": ...}` body of a status change.

use axum::http::StatusCode;
use jiff::civil::Date;
use serde::Deserialize;
use utoipa::ToSchema;

use super::error::ApiError;
use super::extract::parse_json;
use crate::domain::dates;
use crate::domain::ids::ReservationCode;

/// A date field, `yyyy-mm-dd`: 422 `invalid_dates` naming the field otherwise.
pub fn parse_date(field: &str, text: &str) -> Result<Date, ApiError> {
    dates::parse_date(text).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_dates",
            format!("{field} must be a date like 2025-01-03, between years 2000 and 2199"),
        )
    })
}

/// A guest count: at least 1, or 422 `invalid_guests`.
pub fn guests_from(value: i64) -> Result<u32, ApiError> {
    u32::try_from(value)
        .ok()
        .filter(|g| *g >= 1)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_guests",
                "guests must be at least 1",
            )
        })
}

/// A reservation code from a path; anything else is no reservation (404, like an unknown
/// code, so nothing tells which codes exist).
pub fn reservation_code(text: &str, not_found: &str) -> Result<ReservationCode, ApiError> {
    ReservationCode::parse(text).ok_or_else(|| ApiError::no_reservation(not_found))
}

/// Why the guest or host cancels.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: Option<String>,
}

/// The `reason` of an optional JSON body `{"reason": ...}`, or `default` when absent or blank.
pub fn reason_from(body: &[u8], default: &str) -> Result<String, ApiError> {
    let parsed = if body.is_empty() {
        ReasonBody::default()
    } else {
        parse_json::<ReasonBody>(body)?
    };
    Ok(parsed
        .reason
        .map(|r| r.trim().chars().take(500).collect::<String>())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| default.to_owned()))
}
