//! Changing an import feed: `PATCH` with only the fields that change, or `PUT` of the feed
//! exactly as `GET` listed it. What identifies the feed (`id`, `accommodation_id`,
//! `created_at`) is read-only: accepted when unchanged, 422 naming it otherwise. The state the
//! server keeps (`last_attempt`, `last_success`, `last_error`, `last_error_detail`, `failures`,
//! `next_run`, `counts`) is accepted and ignored whatever its value: a sync may have moved it
//! since the `GET`, and comparing it would refuse a faithful echo at random.

use axum::Json;
use axum::extract::State;
use jiff::Timestamp;
use serde::Deserialize;
use serde::de::IgnoredAny;
use utoipa::ToSchema;

use super::AppState;
use super::auth::AdminAuth;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath};
use super::feeds::{FeedView, feed_name, feed_url};
use crate::domain::ical::Source;
use crate::domain::ical::import::{Feed, FeedCounts};
use crate::store::FeedError;

/// Changes to a feed: absent (or null) fields stay as they are. A feed as `GET` lists it is a
/// valid change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedChange {
    url: Option<String>,
    source: Option<Source>,
    name: Option<String>,
    checkout_is_dtend: Option<bool>,
    enabled: Option<bool>,
    /// Read-only: this feed's id.
    id: Option<u64>,
    /// Read-only: the accommodation of the path.
    accommodation_id: Option<u64>,
    /// Read-only: when the feed was added.
    #[schema(value_type = Option<String>, format = DateTime)]
    created_at: Option<Timestamp>,
    /// Kept by the server; ignored.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(rename = "last_attempt")]
    _last_attempt: Option<IgnoredAny>,
    /// Kept by the server; ignored.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(rename = "last_success")]
    _last_success: Option<IgnoredAny>,
    /// Kept by the server; ignored.
    #[schema(value_type = Option<String>)]
    #[serde(rename = "last_error")]
    _last_error: Option<IgnoredAny>,
    /// Kept by the server; ignored.
    #[schema(value_type = Option<String>)]
    #[serde(rename = "last_error_detail")]
    _last_error_detail: Option<IgnoredAny>,
    /// Kept by the server; ignored.
    #[schema(value_type = Option<u32>)]
    #[serde(rename = "failures")]
    _failures: Option<IgnoredAny>,
    /// Kept by the server; ignored.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(rename = "next_run")]
    _next_run: Option<IgnoredAny>,
    /// Kept by the server; ignored.
    #[schema(value_type = Option<FeedCounts>)]
    #[serde(rename = "counts")]
    _counts: Option<IgnoredAny>,
}

/// 422 naming a read-only field given another value than `feed`'s.
fn check_read_only(change: &FeedChange, feed: &Feed) -> Result<(), ApiError> {
    let moved = [
        ("id", change.id.is_some_and(|v| v != feed.id)),
        (
            "accommodation_id",
            change
                .accommodation_id
                .is_some_and(|v| v != feed.accommodation_id),
        ),
        (
            "created_at",
            change.created_at.is_some_and(|v| v != feed.created_at),
        ),
    ];
    match moved.iter().find(|(_, moved)| *moved) {
        Some((field, _)) => Err(ApiError::validation(format!(
            "{field}: is read-only: send the feed's own value, or leave it out"
        ))),
        None => Ok(()),
    }
}

/// Applies `change` to feed `feed_id` of accommodation `id`.
async fn change_feed(
    state: &AppState,
    (id, feed_id): (u64, u64),
    change: FeedChange,
) -> Result<Json<FeedView>, ApiError> {
    let current = state
        .app
        .store
        .feed(feed_id)?
        .filter(|f| f.accommodation_id == id)
        .ok_or(FeedError::NotFound)?;
    check_read_only(&change, &current)?;
    let allow_private = state.app.settings.ical.allow_private_addresses;
    let url = change
        .url
        .as_deref()
        .map(|u| feed_url(u, allow_private))
        .transpose()?;
    let name = match change.name {
        Some(name) => Some(feed_name(
            Some(name),
            change.source.unwrap_or(Source::Other),
        )?),
        None => None,
    };
    let (source, checkout_is_dtend, enabled) =
        (change.source, change.checkout_is_dtend, change.enabled);
    let feed = state
        .app
        .store
        .update_feed(id, feed_id, move |spec| {
            if let Some(url) = url {
                spec.url = url;
            }
            if let Some(source) = source {
                spec.source = source;
            }
            if let Some(name) = name {
                spec.name = name;
            }
            if let Some(v) = checkout_is_dtend {
                spec.checkout_is_dtend = v;
            }
            if let Some(v) = enabled {
                spec.enabled = v;
            }
        })
        .await??;
    Ok(Json(FeedView::of(feed)))
}

/// Changes a feed: the feed as `GET` lists it, or only some of its fields (absent ones stay).
/// A new URL or re-enabling makes it due at once.
#[utoipa::path(put, path = "/api/v1/admin/accommodations/{id}/feeds/{feed_id}", tag = "admin", security(("bearer" = [])),
    params(("id" = u64, Path), ("feed_id" = u64, Path)), request_body = FeedChange,
    responses((status = 200, body = FeedView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_feed(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath(ids): ApiPath<(u64, u64)>,
    ApiJson(change): ApiJson<FeedChange>,
) -> Result<Json<FeedView>, ApiError> {
    change_feed(&state, ids, change).await
}

/// Changes only the fields given; the same bodies as `PUT`.
#[utoipa::path(patch, path = "/api/v1/admin/accommodations/{id}/feeds/{feed_id}", tag = "admin", security(("bearer" = [])),
    params(("id" = u64, Path), ("feed_id" = u64, Path)), request_body = FeedChange,
    responses((status = 200, body = FeedView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_feed(
    State(app): State<AppState>,
    _session: AdminAuth,
    ApiPath(feed): ApiPath<(u64, u64)>,
    ApiJson(patch): ApiJson<FeedChange>,
) -> Result<Json<FeedView>, ApiError> {
    change_feed(&app, feed, patch).await
}
