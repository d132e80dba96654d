//! `GET /api/v1/ical/export/{accommodation_id}/{token}[.ics]`: what OTAs poll.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::{Span, Timestamp};

use super::AppState;
use super::error::{ApiError, ErrorBody};
use crate::domain::dates::local_today;

fn not_found() -> ApiError {
    ApiError::not_found("not_found", "no such calendar")
}

fn count(result: &'static str) {
    metrics::counter!("ical_export_requests_total", "result" => result).increment(1);
}

/// The calendar of one accommodation (RFC 5545): confirmed bookings, live holds and owner
/// blocks as neutral all-day events. A wrong token and an unknown accommodation look the same.
#[utoipa::path(get, path = "/api/v1/ical/export/{accommodation_id}/{token}", tag = "public",
    params(("accommodation_id" = u64, Path), ("token" = String, Path, description = "The export token, optionally with a .ics suffix")),
    responses((status = 200, content_type = "text/calendar", body = String), (status = 304), (status = 404, body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    Path((id, token)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = token.strip_suffix(".ics").unwrap_or(&token);
    let Ok(id) = id.parse::<u64>() else {
        count("not_found");
        return Err(not_found());
    };
    let now = Timestamp::now();
    let history = Span::new().days(i64::from(state.app.settings.ical.export_history_days));
    let since = local_today(now, &state.app.settings.time_zone)
        .checked_sub(history)
        .unwrap_or(jiff::civil::Date::MIN);
    let Some(rendered) = state.app.ical.export(id, token, since, now)? else {
        count("not_found");
        return Err(not_found());
    };
    let etag = rendered.etag.to_string();
    let last_modified = http_date(rendered.last_modified);
    if not_modified(&headers, &etag, rendered.last_modified) {
        count("not_modified");
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::LAST_MODIFIED, last_modified)],
        )
            .into_response());
    }
    count("ok");
    let mut response = (
        [
            (
                header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_owned(),
            ),
            (header::ETAG, etag),
            (header::LAST_MODIFIED, last_modified),
            (
                header::CACHE_CONTROL,
                "private, max-age=0, must-revalidate".to_owned(),
            ),
        ],
        rendered.body,
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("inline; filename=\"calendar.ics\""),
    );
    Ok(response)
}

/// RFC 9110: `If-None-Match` wins when present; otherwise `If-Modified-Since` (second
/// precision) is compared with the calendar's last change.
fn not_modified(headers: &HeaderMap, etag: &str, last_modified: Timestamp) -> bool {
    if let Some(tags) = headers.get(header::IF_NONE_MATCH) {
        let tags = tags.to_str().unwrap_or("");
        return tags.split(',').any(|t| {
            let t = t.trim();
            t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag
        });
    }
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| jiff::fmt::rfc2822::parse(v).ok())
        .is_some_and(|since| last_modified.as_second() <= since.timestamp().as_second())
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn http_date(at: Timestamp) -> String {
    at.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditional_requests_follow_rfc_9110() {
        let at: Timestamp = "2026-11-28T10:00:00Z".parse().unwrap();
        let mut h = HeaderMap::new();
        assert!(!not_modified(&h, "\"abc\"", at));
        h.insert(header::IF_MODIFIED_SINCE, http_date(at).parse().unwrap());
        assert!(not_modified(&h, "\"abc\"", at));
        let later: Timestamp = "2026-11-28T10:00:01Z".parse().unwrap();
        assert!(!not_modified(&h, "\"abc\"", later));
        h.insert(
            header::IF_NONE_MATCH,
            "\"other\", W/\"abc\"".parse().unwrap(),
        );
        assert!(not_modified(&h, "\"abc\"", later));
        h.insert(header::IF_NONE_MATCH, "\"other\"".parse().unwrap());
        assert!(!not_modified(&h, "\"abc\"", at), "If-None-Match wins");
    }

    #[test]
    fn http_dates_are_imf_fixdates() {
        let at: Timestamp = "1994-11-06T08:49:37Z".parse().unwrap();
        assert_eq!(http_date(at), "Sun, 06 Nov 1994 08:49:37 GMT");
    }
}
