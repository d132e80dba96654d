//! The host's side of reservations: list and filter, CSV, one reservation, manual bookings,
//! confirm, cancel, no-show, and the figures.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::csv;
use crate::domain::dates::NightRange;
use crate::domain::ids::AccommodationId;
use crate::domain::reservation::{Actor, Status};
use crate::domain::stats::Stats;
use crate::http::AppState;
use crate::http::auth::AdminAuth;
use crate::http::booking::{ReserveBody, reserve_with};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiBytes, ApiPath, ApiQuery};
use crate::http::input::{ReasonBody, parse_date, reason_from, reservation_code};
use crate::http::views::{CreatedView, ReservationView};
use crate::store::ReservationFilter;

const NO_RESERVATION: &str = "no reservation with that code";

#[derive(Deserialize, IntoParams, Default)]
pub struct ListQuery {
    status: Option<String>,
    #[param(value_type = Option<u64>)]
    accommodation_id: Option<AccommodationId>,
    /// Stays with a night on or after this date.
    from: Option<String>,
    /// Stays with a night before this date.
    to: Option<String>,
    /// Text in code, guest name, phone or email.
    q: Option<String>,
    cursor: Option<String>,
    limit: Option<usize>,
}

impl ListQuery {
    fn filter(&self) -> Result<ReservationFilter, ApiError> {
        let status = self
            .status
            .as_deref()
            .map(|s| {
                Status::parse(s)
                    .ok_or_else(|| ApiError::validation(format!("unknown status {s:?}")))
            })
            .transpose()?;
        let window = match (&self.from, &self.to) {
            (None, None) => None,
            (from, to) => {
                let from = from
                    .as_deref()
                    .map(|f| parse_date("from", f))
                    .transpose()?
                    .unwrap_or(jiff::civil::Date::MIN);
                let to = to
                    .as_deref()
                    .map(|t| parse_date("to", t))
                    .transpose()?
                    .unwrap_or(jiff::civil::Date::MAX);
                Some(
                    NightRange::new(from, to)
                        .map_err(|_| ApiError::validation("to must be after from"))?,
                )
            }
        };
        Ok(ReservationFilter {
            status,
            accommodation_id: self.accommodation_id,
            window,
            text: self.q.clone().filter(|t| !t.trim().is_empty()),
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct ReservationPageView {
    items: Vec<ReservationView>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
}

/// Reservations, newest first, filtered and paginated by cursor.
#[utoipa::path(get, path = "/api/v1/admin/reservations", tag = "admin", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = ReservationPageView), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_reservations(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<ReservationPageView>, ApiError> {
    let filter = q.filter()?;
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let page = state
        .app
        .store
        .list_reservations(&filter, q.cursor.as_deref(), limit)?;
    Ok(Json(ReservationPageView {
        items: page.items.iter().map(ReservationView::of).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// A manual booking (e.g. taken by phone); `confirmed: true` skips the hold.
#[utoipa::path(post, path = "/api/v1/admin/reservations", tag = "admin", security(("bearer" = [])),
    request_body = ReserveBody,
    responses((status = 201, body = CreatedView), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_reservation(
    State(state): State<AppState>,
    admin: AdminAuth,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Response, ApiError> {
    let actor = Actor::Admin { email: admin.email };
    reserve_with(&state, &headers, body, (actor, None), "admin-reserve").await
}

/// A reservation with its audit trail.
#[utoipa::path(get, path = "/api/v1/admin/reservations/{code}", tag = "admin", security(("bearer" = [])),
    params(("code" = String, Path)),
    responses((status = 200, body = ReservationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_reservation(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<ReservationView>, ApiError> {
    let code = reservation_code(&code, NO_RESERVATION)?;
    let r = state
        .app
        .booking
        .reservation(&code)?
        .ok_or_else(|| ApiError::no_reservation(NO_RESERVATION))?;
    Ok(Json(ReservationView::of(&r)))
}

/// The host moves reservation `code` to `to`.
async fn host_change(
    state: &AppState,
    admin: AdminAuth,
    code: &str,
    to: Status,
    reason: String,
) -> Result<Json<ReservationView>, ApiError> {
    let code = reservation_code(code, NO_RESERVATION)?;
    let actor = Actor::Admin { email: admin.email };
    let r = state.app.booking.change(code, to, actor, reason).await??;
    Ok(Json(ReservationView::of(&r)))
}

/// Confirms a hold (e.g. the deposit arrived by transfer). A lapsed hold is confirmed only if
/// its dates are still free.
#[utoipa::path(post, path = "/api/v1/admin/reservations/{code}/confirm", tag = "admin", security(("bearer" = [])),
    params(("code" = String, Path)), request_body(content = Option<ReasonBody>),
    responses((status = 200, body = ReservationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn confirm(
    State(state): State<AppState>,
    admin: AdminAuth,
    ApiPath(code): ApiPath<String>,
    ApiBytes(body): ApiBytes,
) -> Result<Json<ReservationView>, ApiError> {
    let reason = reason_from(&body, "confirmed by the host")?;
    host_change(&state, admin, &code, Status::Confirmed, reason).await
}

/// Cancels a hold or a booking; `reason` is required.
#[utoipa::path(post, path = "/api/v1/admin/reservations/{code}/cancel", tag = "admin", security(("bearer" = [])),
    params(("code" = String, Path)), request_body = ReasonBody,
    responses((status = 200, body = ReservationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    admin: AdminAuth,
    ApiPath(code): ApiPath<String>,
    ApiBytes(body): ApiBytes,
) -> Result<Json<ReservationView>, ApiError> {
    let reason = reason_from(&body, "")?;
    if reason.is_empty() {
        return Err(ApiError::validation("reason is required"));
    }
    host_change(&state, admin, &code, Status::Cancelled, reason).await
}

/// Marks a confirmed booking whose guest never came.
#[utoipa::path(post, path = "/api/v1/admin/reservations/{code}/no-show", tag = "admin", security(("bearer" = [])),
    params(("code" = String, Path)), request_body(content = Option<ReasonBody>),
    responses((status = 200, body = ReservationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn no_show(
    State(state): State<AppState>,
    admin: AdminAuth,
    ApiPath(code): ApiPath<String>,
    ApiBytes(body): ApiBytes,
) -> Result<Json<ReservationView>, ApiError> {
    let reason = reason_from(&body, "guest did not arrive")?;
    host_change(&state, admin, &code, Status::NoShow, reason).await
}

/// Every reservation matching the filters, as CSV (UTF-8 with BOM, CRLF, every field quoted,
/// formulas defused for `,` and `;` spreadsheets).
#[utoipa::path(get, path = "/api/v1/admin/reservations.csv", tag = "admin", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = ErrorBody)))]
pub async fn export_csv(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Response, ApiError> {
    let rows = state.app.store.all_reservations(&q.filter()?)?;
    let out = csv::export(&rows);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"reservas.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}

/// Counts by status, revenue and occupancy this month.
#[utoipa::path(get, path = "/api/v1/admin/stats", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Stats), (status = 401, body = ErrorBody)))]
pub async fn stats(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Result<Json<Stats>, ApiError> {
    Ok(Json(state.app.booking.stats(Timestamp::now())?))
}
