//! Admin API for iCal import: feeds (add, list, remove, sync now; changes are
//! `feed_changes.rs`), imported stays and their conflicts with local bookings. The export's URL
//! is `export_settings.rs`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::auth::AdminAuth;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery};
use crate::app::ical::SyncReport;
use crate::domain::ical::import::{Feed, FeedCounts, FeedSpec, FeedUrl, ImportedStay};
use crate::domain::ical::{EventKind, Source};
use crate::domain::ids::AccommodationId;
use crate::integrations::public_address::allowed;
use crate::store::{AccommodationError, Conflict, FeedError};

/// Longest feed name.
const MAX_NAME: usize = 100;

/// A feed as the admin sees it.
#[derive(Serialize, ToSchema)]
pub struct FeedView {
    id: u64,
    accommodation_id: u64,
    url: String,
    source: Source,
    name: String,
    checkout_is_dtend: bool,
    enabled: bool,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    last_attempt: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    last_success: Option<Timestamp>,
    /// Stable code of the last failure: timeout, network, redirects, http_429, http_4xx,
    /// http_5xx, too_large, empty, parse, truncated or churn_held_back.
    last_error: Option<String>,
    last_error_detail: Option<String>,
    /// Failures in a row (the retry backoff grows with it; the feed is never given up).
    failures: u32,
    #[schema(value_type = Option<String>, format = DateTime)]
    next_run: Option<Timestamp>,
    counts: FeedCounts,
}

impl FeedView {
    pub(super) fn of(f: Feed) -> FeedView {
        FeedView {
            id: f.id,
            accommodation_id: f.accommodation_id,
            url: f.spec.url.as_str().to_owned(),
            source: f.spec.source,
            name: f.spec.name,
            checkout_is_dtend: f.spec.checkout_is_dtend,
            enabled: f.spec.enabled,
            created_at: f.created_at,
            last_attempt: f.state.last_attempt,
            last_success: f.state.last_success,
            last_error: f.state.last_error,
            last_error_detail: f.state.last_error_detail,
            failures: f.state.failures,
            next_run: f.state.next_run,
            counts: f.state.counts,
        }
    }
}

/// A new feed; `url` and `source` are required.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFeed {
    url: String,
    source: Source,
    #[serde(default)]
    name: Option<String>,
    /// `true` (default): DTEND is the check-out day, as RFC 5545 says.
    #[serde(default)]
    checkout_is_dtend: Option<bool>,
    #[serde(default)]
    enabled: Option<bool>,
}

/// A feed address; one naming an address feeds may not reach (`ical.allow_private_addresses`)
/// is refused at once (names are checked again when resolved, at every fetch and redirect).
pub(super) fn feed_url(text: &str, allow_private: bool) -> Result<FeedUrl, ApiError> {
    let url = FeedUrl::parse(text).map_err(|e| ApiError::validation(format!("url: {e}")))?;
    let authority = url.as_str().split_once("://").map_or("", |(_, rest)| {
        rest.split(['/', '?', '#']).next().unwrap_or("")
    });
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) if !allowed(ip, allow_private) => Err(ApiError::validation(
            "url: feeds are fetched only from public addresses (ical.allow_private_addresses)",
        )),
        _ => Ok(url),
    }
}

pub(super) fn feed_name(name: Option<String>, source: Source) -> Result<String, ApiError> {
    let name = name.map(|n| n.trim().to_owned()).unwrap_or_default();
    if name.chars().count() > MAX_NAME {
        return Err(ApiError::validation(format!(
            "name: at most {MAX_NAME} characters"
        )));
    }
    Ok(if name.is_empty() {
        source.label().to_owned()
    } else {
        name
    })
}

/// The import feeds of an accommodation with their last attempt, success, error, event counts
/// and next run.
#[utoipa::path(get, path = "/api/v1/admin/accommodations/{id}/feeds", tag = "admin", security(("bearer" = [])),
    params(("id" = u64, Path)),
    responses((status = 200, body = [FeedView]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_feeds(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath(id): ApiPath<u64>,
) -> Result<Json<Vec<FeedView>>, ApiError> {
    if state
        .app
        .store
        .accommodation(AccommodationId::new(id))?
        .is_none()
    {
        return Err(AccommodationError::NotFound.into());
    }
    Ok(Json(
        state
            .app
            .store
            .feeds(Some(id))?
            .into_iter()
            .map(FeedView::of)
            .collect(),
    ))
}

/// Adds an import feed (an OTA's iCal export URL). It is fetched on the next scheduler round.
#[utoipa::path(post, path = "/api/v1/admin/accommodations/{id}/feeds", tag = "admin", security(("bearer" = [])),
    params(("id" = u64, Path)), request_body = NewFeed,
    responses((status = 201, body = FeedView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_feed(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath(id): ApiPath<u64>,
    ApiJson(body): ApiJson<NewFeed>,
) -> Result<(StatusCode, Json<FeedView>), ApiError> {
    let ical = &state.app.settings.ical;
    let spec = FeedSpec {
        url: feed_url(&body.url, ical.allow_private_addresses)?,
        source: body.source,
        name: feed_name(body.name, body.source)?,
        checkout_is_dtend: body.checkout_is_dtend.unwrap_or(true),
        enabled: body.enabled.unwrap_or(true),
    };
    let feed = state
        .app
        .store
        .create_feed(id, spec, ical.max_feeds_per_accommodation)
        .await??;
    tracing::info!(
        feed = feed.id,
        accommodation = id,
        source = feed.spec.source.as_str(),
        "feed added"
    );
    Ok((StatusCode::CREATED, Json(FeedView::of(feed))))
}

/// Removes a feed and releases every date it imported.
#[utoipa::path(delete, path = "/api/v1/admin/accommodations/{id}/feeds/{feed_id}", tag = "admin", security(("bearer" = [])),
    params(("id" = u64, Path), ("feed_id" = u64, Path)),
    responses((status = 200, body = FeedView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_feed(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath((id, feed_id)): ApiPath<(u64, u64)>,
) -> Result<Json<FeedView>, ApiError> {
    let feed = state.app.store.delete_feed(id, feed_id).await??;
    tracing::info!(feed = feed.id, accommodation = id, "feed removed");
    Ok(Json(FeedView::of(feed)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SyncQuery {
    /// Apply a snapshot even if the churn guard would hold it back.
    #[serde(default)]
    accept_churn: bool,
}

/// Fetches a feed now and applies it; answers what the sync did.
#[utoipa::path(post, path = "/api/v1/admin/accommodations/{id}/feeds/{feed_id}/sync", tag = "admin", security(("bearer" = [])),
    params(("id" = u64, Path), ("feed_id" = u64, Path), SyncQuery),
    responses((status = 200, body = SyncReport), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn sync_feed(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath((id, feed_id)): ApiPath<(u64, u64)>,
    ApiQuery(q): ApiQuery<SyncQuery>,
) -> Result<Json<SyncReport>, ApiError> {
    if state
        .app
        .store
        .feed(feed_id)?
        .is_none_or(|f| f.accommodation_id != id)
    {
        return Err(FeedError::NotFound.into());
    }
    Ok(Json(state.app.ical.sync(feed_id, q.accept_churn).await?))
}

/// A stay imported from a feed.
#[derive(Serialize, ToSchema)]
pub struct ImportedView {
    code: String,
    feed_id: u64,
    accommodation_id: u64,
    source: Source,
    #[schema(value_type = String, format = Date)]
    check_in: jiff::civil::Date,
    #[schema(value_type = String, format = Date)]
    check_out: jiff::civil::Date,
    kind: EventKind,
    #[schema(value_type = String, format = DateTime)]
    updated_at: Timestamp,
    /// Local reservations (confirmed or live holds) overlapping it: empty when no conflict.
    conflicts_with: Vec<String>,
}

impl ImportedView {
    fn of(stay: ImportedStay, conflicts_with: Vec<String>) -> ImportedView {
        ImportedView {
            code: stay.code,
            feed_id: stay.feed_id,
            accommodation_id: stay.accommodation_id,
            source: stay.source,
            check_in: stay.range.check_in(),
            check_out: stay.range.check_out(),
            kind: stay.kind,
            updated_at: stay.updated_at,
            conflicts_with,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportedQuery {
    accommodation_id: Option<u64>,
}

/// Stays imported from feeds, with any conflict flagged.
#[utoipa::path(get, path = "/api/v1/admin/ical/imported", tag = "admin", security(("bearer" = [])),
    params(ImportedQuery),
    responses((status = 200, body = [ImportedView]), (status = 401, body = ErrorBody)))]
pub async fn list_imported(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiQuery(q): ApiQuery<ImportedQuery>,
) -> Result<Json<Vec<ImportedView>>, ApiError> {
    let store = &state.app.store;
    let conflicts = store.ical_conflicts(q.accommodation_id, Timestamp::now())?;
    let views = store
        .imported_stays(q.accommodation_id)?
        .into_iter()
        .map(|stay| {
            let with = conflicts
                .iter()
                .find(|c| c.stay.code == stay.code)
                .map(|c| c.reservations.clone())
                .unwrap_or_default();
            ImportedView::of(stay, with)
        })
        .collect();
    Ok(Json(views))
}

/// Imported stays that overlap local bookings or live holds: the host must sort these out.
#[utoipa::path(get, path = "/api/v1/admin/ical/conflicts", tag = "admin", security(("bearer" = [])),
    params(ImportedQuery),
    responses((status = 200, body = [ImportedView]), (status = 401, body = ErrorBody)))]
pub async fn list_conflicts(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiQuery(q): ApiQuery<ImportedQuery>,
) -> Result<Json<Vec<ImportedView>>, ApiError> {
    let conflicts = state
        .app
        .store
        .ical_conflicts(q.accommodation_id, Timestamp::now())?;
    Ok(Json(
        conflicts
            .into_iter()
            .map(|Conflict { stay, reservations }| ImportedView::of(stay, reservations))
            .collect(),
    ))
}
