//! What a stranger may browse: the accommodations on sale, a stay's price and whether it is
//! free, and a calendar of free nights.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiPath, ApiQuery};
use super::input::{guests_from, parse_date};
use crate::domain::accommodation::Accommodation;
use crate::domain::availability::DayAvailability;
use crate::domain::dates::NightRange;
use crate::domain::ids::AccommodationId;
use crate::domain::money::Money;
use crate::domain::pricing::NightPrice;

/// Longest window `availability` answers for.
const MAX_WINDOW_NIGHTS: u32 = 366;

/// Active accommodations.
#[utoipa::path(get, path = "/api/v1/accommodations", tag = "public",
    responses((status = 200, body = [Accommodation])))]
pub async fn list_accommodations(
    State(state): State<AppState>,
) -> Result<Json<Vec<Accommodation>>, ApiError> {
    Ok(Json(state.app.accommodations.active()?))
}

#[derive(Deserialize, IntoParams)]
pub struct QuoteQuery {
    /// First night, `yyyy-mm-dd`.
    check_in: String,
    /// Departure day (exclusive), `yyyy-mm-dd`.
    check_out: String,
    guests: Option<i64>,
}

/// A priced stay and whether its dates are free.
#[derive(Serialize, ToSchema)]
pub struct QuoteView {
    #[schema(value_type = u64)]
    accommodation_id: AccommodationId,
    #[schema(value_type = String, format = Date)]
    #[serde(serialize_with = "crate::domain::dates::serialize_date")]
    check_in: Date,
    #[schema(value_type = String, format = Date)]
    #[serde(serialize_with = "crate::domain::dates::serialize_date")]
    check_out: Date,
    nights: u32,
    guests: u32,
    available: bool,
    nightly: Vec<NightPrice>,
    #[schema(value_type = String, example = "48000.00")]
    total_price: Money,
    #[schema(value_type = String, example = "14400.00")]
    deposit_amount: Money,
    currency: String,
}

/// Price and availability of a stay.
#[utoipa::path(get, path = "/api/v1/accommodations/{id}/quote", tag = "public",
    params(("id" = u64, Path), QuoteQuery),
    responses((status = 200, body = QuoteView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn quote_stay(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<AccommodationId>,
    ApiQuery(q): ApiQuery<QuoteQuery>,
) -> Result<Json<QuoteView>, ApiError> {
    let check_in = parse_date("check_in", &q.check_in)?;
    let check_out = parse_date("check_out", &q.check_out)?;
    let guests = guests_from(q.guests.unwrap_or(1))?;
    let quote = state
        .app
        .booking
        .quote(id, (check_in, check_out), guests, Timestamp::now())?;
    Ok(Json(QuoteView {
        accommodation_id: id,
        check_in,
        check_out,
        nights: quote.range.nights(),
        guests,
        available: quote.available,
        nightly: quote.price.nights,
        total_price: quote.price.total,
        deposit_amount: quote.price.deposit,
        currency: state.app.settings.currency.clone(),
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct WindowQuery {
    /// First night, `yyyy-mm-dd`.
    from: String,
    /// Day after the last night, `yyyy-mm-dd`.
    to: String,
}

/// Per-night availability of one accommodation.
#[derive(Serialize, ToSchema)]
pub struct AvailabilityView {
    #[schema(value_type = u64)]
    accommodation_id: AccommodationId,
    #[schema(value_type = String, format = Date)]
    from: Date,
    #[schema(value_type = String, format = Date)]
    to: Date,
    days: Vec<DayAvailability>,
}

/// Which nights are free in `[from, to)` (at most 366 nights).
#[utoipa::path(get, path = "/api/v1/accommodations/{id}/availability", tag = "public",
    params(("id" = u64, Path), WindowQuery),
    responses((status = 200, body = AvailabilityView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn availability(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<AccommodationId>,
    ApiQuery(q): ApiQuery<WindowQuery>,
) -> Result<Json<AvailabilityView>, ApiError> {
    let from = parse_date("from", &q.from)?;
    let to = parse_date("to", &q.to)?;
    let window = NightRange::new(from, to)
        .ok()
        .filter(|w| w.nights() <= MAX_WINDOW_NIGHTS)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_dates",
                "to must be after from, at most 366 days later",
            )
        })?;
    let days = state
        .app
        .booking
        .calendar(id, window, Timestamp::now())?
        .ok_or_else(|| ApiError::no_accommodation("no active accommodation with that id"))?;
    Ok(Json(AvailabilityView {
        accommodation_id: id,
        from,
        to,
        days,
    }))
}
