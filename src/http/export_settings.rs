//! The host's side of our calendar export: the URL to give the OTAs, whether imported stays
//! are exported again, and rotating the URL's token.

use axum::Json;
use axum::extract::State;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::auth::AdminAuth;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath};
use crate::domain::ical::export::ExportSettings;

/// The export of an accommodation as the admin sees it.
#[derive(Serialize, ToSchema)]
pub struct ExportView {
    /// Give this URL to Airbnb, Booking.com or Vrbo ("import calendar").
    export_url: String,
    export_path: String,
    include_imported: bool,
    #[schema(value_type = String, format = DateTime)]
    rotated_at: Timestamp,
}

/// The export's URL from [`AppState::links_base`] (configuration, never the request).
fn export_view(id: u64, s: &ExportSettings, base: &str) -> ExportView {
    let export_path = format!("/api/v1/ical/export/{id}/{}.ics", s.token);
    ExportView {
        export_url: format!("{base}{export_path}"),
        export_path,
        include_imported: s.include_imported,
        rotated_at: s.rotated_at,
    }
}

/// The export URL of an accommodation and its options.
#[utoipa::path(get, path = "/api/v1/admin/accommodations/{id}/ical", tag = "admin", security(("bearer" = [])),
    params(("id" = u64, Path)),
    responses((status = 200, body = ExportView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_export(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath(id): ApiPath<u64>,
) -> Result<Json<ExportView>, ApiError> {
    let settings = state.app.ical.export_settings(id).await??;
    Ok(Json(export_view(id, &settings, &state.links_base)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportChange {
    /// Re-export stays imported from feeds (off by default: it makes echo loops between OTAs).
    include_imported: bool,
}

/// Changes the export options.
#[utoipa::path(put, path = "/api/v1/admin/accommodations/{id}/ical", tag = "admin", security(("bearer" = [])),
    params(("id" = u64, Path)), request_body = ExportChange,
    responses((status = 200, body = ExportView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_export(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath(id): ApiPath<u64>,
    ApiJson(body): ApiJson<ExportChange>,
) -> Result<Json<ExportView>, ApiError> {
    let settings = state
        .app
        .ical
        .set_include_imported(id, body.include_imported)
        .await??;
    Ok(Json(export_view(id, &settings, &state.links_base)))
}

/// Replaces the export token: the old URL answers 404 from now on.
#[utoipa::path(post, path = "/api/v1/admin/accommodations/{id}/ical/rotate", tag = "admin", security(("bearer" = [])),
    params(("id" = u64, Path)),
    responses((status = 200, body = ExportView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn rotate_export(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath(id): ApiPath<u64>,
) -> Result<Json<ExportView>, ApiError> {
    let settings = state.app.ical.rotate_export(id).await??;
    Ok(Json(export_view(id, &settings, &state.links_base)))
}
