//! Reservations over HTTP: the guest's side here (take a hold, see it, cancel it), the
//! host's in `admin.rs`.

pub mod admin;
pub(crate) mod csv;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::AppState;
use super::auth::authorize;
use super::booking::{ReserveBody, reserve_with};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiBytes, ApiPath, ClientIp};
use super::input::{ReasonBody, reason_from};
use super::views::{CreatedView, ReservationView};
use crate::domain::reservation::{Actor, Reservation, Status};

/// Takes a pre-reservation: holds the dates until `expires_at` while the guest pays the deposit.
/// Guests' unpaid holds are limited (`[holds]`): 429 `too_many_holds`, 409 `hold_too_long`,
/// 409 `too_many_held_nights`.
#[utoipa::path(post, path = "/api/v1/reservations", tag = "public", request_body = ReserveBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe key")),
    responses((status = 201, body = CreatedView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn reserve(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Response, ApiError> {
    let who = (Actor::Guest, Some(client));
    reserve_with(&state, &headers, body, who, "reserve").await
}

/// Same as `POST /api/v1/reservations` (the original system's path).
#[utoipa::path(post, path = "/api/v1/reservations/pre-reserve", tag = "public", request_body = ReserveBody,
    responses((status = 201, body = CreatedView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn pre_reserve(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    body: ApiBytes,
) -> Result<Response, ApiError> {
    reserve(State(state), client, headers, body).await
}

/// The view `actor` may see of `r`: the guest's leaves the host's email out.
fn view_for(actor: &Actor, r: &Reservation) -> ReservationView {
    match actor {
        Actor::Guest => ReservationView::for_guest(r),
        _ => ReservationView::of(r),
    }
}

/// A reservation, for its guest (Bearer access token) or an admin.
#[utoipa::path(get, path = "/api/v1/reservations/{code}", tag = "public",
    params(("code" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = ReservationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_reservation(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Json<ReservationView>, ApiError> {
    let (r, actor) = authorize(&state, &headers, &code)?;
    Ok(Json(view_for(&actor, &r)))
}

/// Applies a status change for `actor` and answers the reservation as `actor` may see it.
async fn change_status(
    state: &AppState,
    r: &Reservation,
    to: Status,
    actor: Actor,
    reason: String,
) -> Result<Json<ReservationView>, ApiError> {
    let view_actor = actor.clone();
    let changed = state
        .app
        .booking
        .change(r.code.clone(), to, actor, reason)
        .await??;
    Ok(Json(view_for(&view_actor, &changed)))
}

/// Cancels a reservation: a guest can cancel their hold; a confirmed booking needs the host.
#[utoipa::path(post, path = "/api/v1/reservations/{code}/cancel", tag = "public",
    params(("code" = String, Path)), request_body(content = Option<ReasonBody>), security(("bearer" = [])),
    responses((status = 200, body = ReservationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_reservation(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Json<ReservationView>, ApiError> {
    let (r, actor) = authorize(&state, &headers, &code)?;
    let reason = reason_from(&body, "cancelled")?;
    change_status(&state, &r, Status::Cancelled, actor, reason).await
}
