//! The host's content for the guest site and the bot: the property's content, each
//! accommodation's page (slug, amenities, notes, rules), its photos (upload, alt text,
//! order, removal) and the snippets to embed the site elsewhere.

use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::auth::AdminAuth;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath};
use crate::domain::content::{
    AccommodationContent, Amenity, ContentInput, Photo, PropertyContent, PropertyInput,
};
use crate::domain::ids::AccommodationId;

/// The property's content (what the host saved, or the configuration's values).
#[utoipa::path(get, path = "/api/v1/admin/site", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = PropertyContent), (status = 401, body = ErrorBody)))]
pub async fn get_site(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Result<Json<PropertyContent>, ApiError> {
    Ok(Json(state.app.site.property()?))
}

/// Saves the property's content (the guest site and the WhatsApp bot's answers use it).
#[utoipa::path(put, path = "/api/v1/admin/site", tag = "admin", security(("bearer" = [])),
    request_body = PropertyInput,
    responses((status = 200, body = PropertyContent), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_site(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiJson(input): ApiJson<PropertyInput>,
) -> Result<Json<PropertyContent>, ApiError> {
    Ok(Json(state.app.site.set_property(input).await??))
}

/// One amenity the host can tick.
#[derive(Serialize, ToSchema)]
pub struct AmenityView {
    key: Amenity,
    label: &'static str,
}

/// An accommodation's page and where guests see it.
#[derive(Serialize, ToSchema)]
pub struct ContentView {
    #[serde(flatten)]
    content: AccommodationContent,
    /// `/alojamientos/{slug}`
    path: String,
    /// Every amenity there is, with its label.
    amenity_choices: Vec<AmenityView>,
}

fn view(content: AccommodationContent) -> ContentView {
    ContentView {
        path: format!("/alojamientos/{}", content.slug),
        amenity_choices: Amenity::ALL
            .into_iter()
            .map(|key| AmenityView {
                key,
                label: key.label(),
            })
            .collect(),
        content,
    }
}

/// An accommodation's page (slug, amenities, notes, rules, photos).
#[utoipa::path(get, path = "/api/v1/admin/accommodations/{id}/content", tag = "admin", security(("bearer" = [])),
    params(("id" = u64, Path)),
    responses((status = 200, body = ContentView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_content(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath(id): ApiPath<AccommodationId>,
) -> Result<Json<ContentView>, ApiError> {
    let page = state
        .app
        .site
        .page_of(id)?
        .ok_or_else(|| ApiError::no_accommodation("no accommodation with that id"))?;
    Ok(Json(view(page.content)))
}

/// Saves an accommodation's slug, amenities, notes and house rules (photos stay).
#[utoipa::path(put, path = "/api/v1/admin/accommodations/{id}/content", tag = "admin", security(("bearer" = [])),
    params(("id" = u64, Path)), request_body = ContentInput,
    responses((status = 200, body = ContentView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_content(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath(id): ApiPath<AccommodationId>,
    ApiJson(input): ApiJson<ContentInput>,
) -> Result<Json<ContentView>, ApiError> {
    Ok(Json(view(state.app.site.set_content(id, input).await??)))
}

#[derive(Deserialize, IntoParams)]
pub struct UploadQuery {
    /// What the photo shows, for guests who cannot see it.
    alt: Option<String>,
}

/// Adds a photo: the body is the image itself (JPEG, PNG or WebP, at most
/// `site.photo_max_bytes`); it is re-encoded (metadata dropped) at a few widths.
#[utoipa::path(post, path = "/api/v1/admin/accommodations/{id}/photos", tag = "admin", security(("bearer" = [])),
    params(("id" = u64, Path), UploadQuery), request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 201, body = Photo), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn upload_photo(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath(id): ApiPath<AccommodationId>,
    Query(q): Query<UploadQuery>,
    body: Body,
) -> Result<(StatusCode, Json<Photo>), ApiError> {
    let limit = state.app.settings.site.photo_max_bytes;
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "photo_too_large",
            format!("photos may be at most {limit} bytes (site.photo_max_bytes)"),
        )
    })?;
    let alt = q.alt.unwrap_or_default();
    let photo = state.app.site.add_photo(id, bytes, &alt).await?;
    Ok((StatusCode::CREATED, Json(photo)))
}

/// What can change about a photo.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhotoChange {
    alt: Option<String>,
    /// New place in the order (0 = the cover).
    position: Option<usize>,
}

/// Changes a photo's alt text or moves it.
#[utoipa::path(put, path = "/api/v1/admin/accommodations/{id}/photos/{photo_id}", tag = "admin", security(("bearer" = [])),
    params(("id" = u64, Path), ("photo_id" = String, Path)), request_body = PhotoChange,
    responses((status = 200, body = ContentView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_photo(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath((id, photo_id)): ApiPath<(AccommodationId, String)>,
    ApiJson(change): ApiJson<PhotoChange>,
) -> Result<Json<ContentView>, ApiError> {
    let content = state
        .app
        .site
        .change_photo(id, photo_id, change.alt, change.position)
        .await?;
    Ok(Json(view(content)))
}

/// Removes a photo.
#[utoipa::path(delete, path = "/api/v1/admin/accommodations/{id}/photos/{photo_id}", tag = "admin", security(("bearer" = [])),
    params(("id" = u64, Path), ("photo_id" = String, Path)),
    responses((status = 200, body = ContentView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_photo(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath((id, photo_id)): ApiPath<(AccommodationId, String)>,
) -> Result<Json<ContentView>, ApiError> {
    Ok(Json(view(state.app.site.remove_photo(id, photo_id).await?)))
}

/// What the host pastes into their own website.
#[derive(Serialize, ToSchema)]
pub struct EmbedView {
    /// The site's address (`server.public_base_url`), or none while it is not configured.
    site_url: Option<String>,
    /// A "Reservar" button.
    button: String,
    /// The search and accommodations inline (needs the host's origin in
    /// `site.frame_ancestors`).
    widget: String,
    /// The same as a plain iframe.
    iframe: String,
    frame_ancestors: Vec<String>,
}

/// The embed snippets, built from `server.public_base_url`.
#[utoipa::path(get, path = "/api/v1/admin/site/embed", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = EmbedView), (status = 401, body = ErrorBody)))]
pub async fn embed(State(state): State<AppState>, _admin: AdminAuth) -> Json<EmbedView> {
    let settings = &state.app.settings;
    let base = settings
        .public_base_url
        .clone()
        .unwrap_or_else(|| "https://TU-DOMINIO".into());
    Json(EmbedView {
        site_url: settings.public_base_url.clone(),
        button: format!(
            r#"<script src="{base}/sitio/embed.js" data-texto="Reservar" async></script>"#
        ),
        widget: format!(
            r#"<script src="{base}/sitio/embed.js" data-modo="widget" async></script>"#
        ),
        iframe: format!(
            r#"<iframe src="{base}/embed" title="Reservas" loading="lazy" style="width:100%;min-height:560px;border:0"></iframe>"#
        ),
        frame_ancestors: settings.site.frame_ancestors.clone(),
    })
}
