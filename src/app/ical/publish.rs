//! Our calendar as OTAs poll it: the token check, the render and a per-accommodation cache of
//! the rendered body, valid while nothing holding the dates changed and no hold lapsed; and
//! the host's export settings (the URL's token, rotation, re-exporting imported stays).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use jiff::civil::Date;

use super::IcalSync;
use crate::app::accommodations::{new_export_settings, new_export_token};
use crate::domain::ical::export::ExportSettings;
use crate::domain::ical::export::{BLOCKED, ExportEvent, RESERVED, render};
use crate::secret::{matches_sha256, sha256_hex};
use crate::store::{AccommodationError, CalendarExport, ExportHead, ExportedKind, StoreError};

/// A rendered export and its validators.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub body: bytes::Bytes,
    /// Quoted strong ETag (SHA-256 of the body).
    pub etag: Arc<str>,
    pub last_modified: Timestamp,
}

/// What a cached render depends on besides the clock.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Version {
    changed: Timestamp,
    include_imported: bool,
    name: String,
    since: Date,
}

struct Cached {
    version: Version,
    valid_until: Option<Timestamp>,
    rendered: Rendered,
}

/// Rendered exports by accommodation.
#[derive(Default)]
pub struct ExportCache(Mutex<HashMap<u64, Cached>>);

fn version(head: &ExportHead, since: Date) -> Version {
    Version {
        changed: head.changed,
        include_imported: head.settings.include_imported,
        name: head.accommodation_name.clone(),
        since,
    }
}

/// Export settings, or why they could not be had.
type SettingsResult = Result<Result<ExportSettings, AccommodationError>, StoreError>;

impl IcalSync {
    /// The export settings of an accommodation (made now for one created before exports).
    pub async fn export_settings(&self, accommodation_id: u64) -> SettingsResult {
        match self.store.export_settings(accommodation_id)? {
            Some(s) => Ok(Ok(s)),
            None => self.change_export(accommodation_id, |_| {}).await,
        }
    }

    /// Whether stays imported from feeds are exported again (off by default: echo loops).
    pub async fn set_include_imported(&self, accommodation_id: u64, on: bool) -> SettingsResult {
        self.change_export(accommodation_id, move |s| s.include_imported = on)
            .await
    }

    /// Replaces the export token: the old URL stops working at once.
    pub async fn rotate_export(&self, accommodation_id: u64) -> SettingsResult {
        let token = new_export_token();
        let result = self
            .change_export(accommodation_id, move |s| {
                s.token = token;
                s.rotated_at = Timestamp::now();
            })
            .await;
        if matches!(result, Ok(Ok(_))) {
            tracing::info!(
                accommodation = accommodation_id,
                "iCal export token rotated"
            );
        }
        result
    }

    async fn change_export(
        &self,
        accommodation_id: u64,
        change: impl FnOnce(&mut ExportSettings) + Send + 'static,
    ) -> SettingsResult {
        let fresh = new_export_settings(Timestamp::now());
        self.store
            .change_export_settings(accommodation_id, fresh, change)
            .await
    }

    /// The export of `accommodation_id` if `token` is its export token (compared in constant
    /// time); `None` for a wrong token and an unknown accommodation alike.
    pub fn export(
        &self,
        accommodation_id: u64,
        token: &str,
        since: Date,
        now: Timestamp,
    ) -> Result<Option<Rendered>, StoreError> {
        let Some(head) = self
            .store
            .export_head(accommodation_id)?
            .filter(|h| matches_sha256(token, &sha256_hex(&h.settings.token)))
        else {
            return Ok(None);
        };
        let wanted = version(&head, since);
        {
            let cache = self.exports.0.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(hit) = cache
                .get(&accommodation_id)
                .filter(|c| c.version == wanted && c.valid_until.is_none_or(|until| now < until))
            {
                return Ok(Some(hit.rendered.clone()));
            }
        }
        let Some(calendar) = self.store.calendar_export(accommodation_id, since, now)? else {
            return Ok(None);
        };
        let rendered = self.render(&calendar);
        self.exports
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                accommodation_id,
                Cached {
                    version: version(&calendar.head, since),
                    valid_until: calendar.valid_until,
                    rendered: rendered.clone(),
                },
            );
        Ok(Some(rendered))
    }

    fn render(&self, calendar: &CalendarExport) -> Rendered {
        let uid = self.export_uids(&calendar.head.settings.uid_key);
        let events: Vec<ExportEvent> = calendar
            .items
            .iter()
            .map(|item| ExportEvent {
                uid: uid(&item.code),
                range: item.range,
                changed_at: item.changed_at,
                summary: match item.kind {
                    ExportedKind::Reserved => RESERVED,
                    ExportedKind::Blocked => BLOCKED,
                },
            })
            .collect();
        let body = render(&calendar.head.accommodation_name, &events);
        let etag = format!("\"{}\"", &sha256_hex(&body)[..32]);
        Rendered {
            body: bytes::Bytes::from(body),
            etag: etag.into(),
            last_modified: calendar.last_modified,
        }
    }
}
