//! Import feeds and the stays they bring in.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{EventKind, Source};
use crate::domain::dates::NightRange;

/// The `http(s)` address of an OTA calendar export. Validated on construction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FeedUrl(String);

/// Why a feed address was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the feed URL must be an absolute http:// or https:// address of at most 2048 bytes")]
pub struct InvalidFeedUrl;

impl FeedUrl {
    pub fn parse(text: &str) -> Result<FeedUrl, InvalidFeedUrl> {
        let text = text.trim();
        let rest = text
            .strip_prefix("https://")
            .or_else(|| text.strip_prefix("http://"))
            .ok_or(InvalidFeedUrl)?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let valid = text.len() <= 2048
            && !host.is_empty()
            && !host.contains('@')
            && text.bytes().all(|b| b.is_ascii_graphic());
        valid
            .then(|| FeedUrl(text.to_owned()))
            .ok_or(InvalidFeedUrl)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for FeedUrl {
    type Error = InvalidFeedUrl;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        FeedUrl::parse(&value)
    }
}

impl From<FeedUrl> for String {
    fn from(url: FeedUrl) -> String {
        url.0
    }
}

/// What the host sets on a feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedSpec {
    pub url: FeedUrl,
    pub source: Source,
    pub name: String,
    /// RFC 5545 reading: DTEND is the check-out day. Off for feeds whose DTEND is the last night.
    pub checkout_is_dtend: bool,
    pub enabled: bool,
}

/// What the last fetches of a feed did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedState {
    pub last_attempt: Option<Timestamp>,
    pub last_success: Option<Timestamp>,
    /// Stable code of the last failure (`timeout`, `http_5xx`, `truncated`, `churn_held_back`…);
    /// cleared by a success.
    pub last_error: Option<String>,
    /// Human-readable detail of `last_error`.
    pub last_error_detail: Option<String>,
    /// Failures in a row; drives the backoff.
    pub failures: u32,
    pub next_run: Option<Timestamp>,
    /// Validators for conditional requests, from the last full response.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub counts: FeedCounts,
}

/// Event counts of the last parsed snapshot and of the stays held now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FeedCounts {
    /// Events in the last snapshot that was read.
    pub events: u32,
    /// Events skipped because they could not be read.
    pub broken: u32,
    /// Events skipped on purpose (our own echo, repeated UIDs, same-day tasks).
    pub ignored: u32,
    /// Stays imported from this feed that hold dates now.
    pub reservations: u32,
    pub blocks: u32,
    /// Releases the churn guard held back on the last run.
    pub held_back: u32,
}

/// An import feed of one accommodation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feed {
    pub id: u64,
    pub accommodation_id: u64,
    pub spec: FeedSpec,
    pub created_at: Timestamp,
    pub state: FeedState,
}

/// Dates held by an event of an import feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedStay {
    /// `IMP…`: its key in the occupancy index.
    pub code: String,
    pub feed_id: u64,
    pub accommodation_id: u64,
    pub source: Source,
    /// The feed's UID (opaque; kept only to match the next snapshot).
    pub uid: String,
    pub range: NightRange,
    pub kind: EventKind,
    pub imported_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Code of an imported stay: `IMP` and eight hex digits.
pub fn imported_code(random: [u8; 4]) -> String {
    format!(
        "IMP{:02X}{:02X}{:02X}{:02X}",
        random[0], random[1], random[2], random[3]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_urls_must_be_absolute_http() {
        for good in [
            "https://www.airbnb.com/calendar/ical/123.ics?s=abc",
            "http://127.0.0.1:8000/feed.ics",
            "  https://admin.booking.com/hotel/hoteladmin/ical.html?t=x  ",
        ] {
            assert!(FeedUrl::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "ftp://x/y",
            "https://",
            "file:///etc/passwd",
            "https://user@host/x",
            "https://host/a b",
            "www.airbnb.com/x",
        ] {
            assert_eq!(FeedUrl::parse(bad), Err(InvalidFeedUrl), "{bad}");
        }
        assert!(FeedUrl::parse(&format!("https://h/{}", "a".repeat(2048))).is_err());
    }

    #[test]
    fn imported_codes_are_distinct_from_other_codes() {
        assert_eq!(imported_code([0, 1, 0xab, 0xff]), "IMP0001ABFF");
    }
}
