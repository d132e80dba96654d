//! The host's accommodations: list, add, replace or change some fields, take off sale and put
//! back.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::AppState;
use super::auth::AdminAuth;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath};
use crate::domain::accommodation::{Accommodation, AccommodationInput};
use crate::domain::accommodation_change::AccommodationChange;
use crate::domain::ids::AccommodationId;

/// Every accommodation, active or not.
#[utoipa::path(get, path = "/api/v1/admin/accommodations", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = [Accommodation]), (status = 401, body = ErrorBody)))]
pub async fn list_accommodations(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Result<Json<Vec<Accommodation>>, ApiError> {
    Ok(Json(state.app.accommodations.all()?))
}

/// Adds an accommodation.
#[utoipa::path(post, path = "/api/v1/admin/accommodations", tag = "admin", security(("bearer" = [])),
    request_body = AccommodationInput,
    responses((status = 201, body = Accommodation), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_accommodation(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiJson(input): ApiJson<AccommodationInput>,
) -> Result<(StatusCode, Json<Accommodation>), ApiError> {
    let acc = state.app.accommodations.create(input.validate()?).await?;
    Ok((StatusCode::CREATED, Json(acc)))
}

/// Replaces an accommodation's description and prices. Takes the object exactly as `GET`
/// shows it (`id` is read-only: accepted when it is this one's, 422 naming it otherwise); name,
/// kind, capacity and base price are required, other absent fields take their defaults.
#[utoipa::path(put, path = "/api/v1/admin/accommodations/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = u64, Path)), request_body = AccommodationChange,
    responses((status = 200, body = Accommodation), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_accommodation(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath(id): ApiPath<AccommodationId>,
    ApiJson(change): ApiJson<AccommodationChange>,
) -> Result<Json<Accommodation>, ApiError> {
    let spec = change.replacement(id)?;
    Ok(Json(state.app.accommodations.replace(id, spec).await??))
}

/// Changes only the fields given (absent or null ones stay as they are); the result is checked
/// as a whole. `id` is read-only, as in `PUT`.
#[utoipa::path(patch, path = "/api/v1/admin/accommodations/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = u64, Path)), request_body = AccommodationChange,
    responses((status = 200, body = Accommodation), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_accommodation(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath(id): ApiPath<AccommodationId>,
    ApiJson(change): ApiJson<AccommodationChange>,
) -> Result<Json<Accommodation>, ApiError> {
    Ok(Json(state.app.accommodations.patch(id, change).await??))
}

/// Takes an accommodation off sale (existing bookings stay).
#[utoipa::path(post, path = "/api/v1/admin/accommodations/{id}/deactivate", tag = "admin", security(("bearer" = [])),
    params(("id" = u64, Path)),
    responses((status = 200, body = Accommodation), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn deactivate_accommodation(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath(id): ApiPath<AccommodationId>,
) -> Result<Json<Accommodation>, ApiError> {
    Ok(Json(state.app.accommodations.set_active(id, false).await??))
}

/// Puts an accommodation back on sale.
#[utoipa::path(post, path = "/api/v1/admin/accommodations/{id}/activate", tag = "admin", security(("bearer" = [])),
    params(("id" = u64, Path)),
    responses((status = 200, body = Accommodation), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn activate_accommodation(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath(id): ApiPath<AccommodationId>,
) -> Result<Json<Accommodation>, ApiError> {
    Ok(Json(state.app.accommodations.set_active(id, true).await??))
}
