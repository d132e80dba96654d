//! What a sync attempt leaves behind: the feed's state (success, failure with backoff,
//! unchanged), the snapshot applied to the store, metrics, logs and the admin's report.

use std::time::Duration;

use jiff::Timestamp;

use super::{IcalSync, Outcome, SyncError, SyncReport};
use crate::domain::dates::local_today;
use crate::domain::ical::feed::ParsedFeed;
use crate::domain::ical::import::{Feed, FeedState};
use crate::domain::ical::snapshot::ChurnGuard;
use crate::integrations::ical_fetch::FetchError;
use crate::integrations::outbound::backoff;
use crate::store::{Applied, Snapshot};

/// The longest `Retry-After` we honour; beyond it the normal backoff applies.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Any failure of one sync attempt, with its stable code.
pub(super) enum Failure {
    Fetch(FetchError),
    Parse(crate::domain::ical::feed::FeedError),
}

impl Failure {
    fn code(&self) -> &'static str {
        match self {
            Failure::Fetch(e) => e.code(),
            Failure::Parse(e) => e.code(),
        }
    }

    fn detail(&self) -> String {
        match self {
            Failure::Fetch(e) => e.to_string(),
            Failure::Parse(e) => e.to_string(),
        }
    }
}

impl IcalSync {
    fn next_run(&self, now: Timestamp) -> Option<Timestamp> {
        let jittered = self
            .settings
            .sync_interval
            .mul_f64(0.9 + 0.2 * rand::random::<f64>());
        now.checked_add(jittered).ok()
    }

    pub(super) async fn record_unchanged(&self, id: u64) -> Result<SyncReport, SyncError> {
        let now = Timestamp::now();
        let next = self.next_run(now);
        let feed = self
            .store
            .update_feed_state(id, move |s| {
                succeeded(s, now);
                s.next_run = next;
            })
            .await?
            .ok_or(SyncError::NotFound)?;
        self.record_success_gauge(&feed);
        Ok(report(Outcome::NotModified, &Applied::default(), None))
    }

    pub(super) async fn apply(
        &self,
        feed: &Feed,
        parsed: ParsedFeed,
        etag: Option<String>,
        last_modified: Option<String>,
        accept_churn: bool,
    ) -> Result<SyncReport, SyncError> {
        let now = Timestamp::now();
        let next = self.next_run(now);
        let snapshot = Snapshot {
            feed_id: feed.id,
            url: feed.spec.url.as_str().to_owned(),
            parsed,
            today: local_today(now, &self.time_zone),
            guard: ChurnGuard {
                max_share: self.settings.churn_max_share,
                min_releases: self.settings.churn_min_releases,
            },
            accept_churn,
        };
        let (saved, applied) = self
            .store
            .apply_snapshot(snapshot, move |s, applied| {
                s.next_run = next;
                s.last_attempt = Some(now);
                match applied.held_back {
                    Some(n) => {
                        s.last_error = Some("churn_held_back".into());
                        s.last_error_detail = Some(format!(
                            "the feed would release {n} stays at once; nothing was applied. \
                             Check the feed, then sync with accept_churn=true to apply it"
                        ));
                    }
                    None => {
                        succeeded(s, now);
                        s.etag = etag;
                        s.last_modified = last_modified;
                    }
                }
            })
            .await?
            .ok_or(SyncError::NotFound)?;
        let source = saved.spec.source.as_str();
        metrics::counter!("ical_events_imported_total", "source" => source)
            .increment(u64::from(applied.created));
        metrics::counter!("ical_events_released_total", "source" => source)
            .increment(u64::from(applied.released));
        metrics::counter!("ical_conflicts_total", "source" => source)
            .increment(applied.conflicts.len() as u64);
        for conflict in &applied.conflicts {
            tracing::warn!(
                feed = saved.id,
                source,
                imported = %conflict.stay.code,
                check_in = %conflict.stay.range.check_in(),
                check_out = %conflict.stay.range.check_out(),
                reservations = ?conflict.reservations,
                "an imported stay overlaps local reservations"
            );
        }
        if let Some(n) = applied.held_back {
            tracing::warn!(
                feed = saved.id,
                source,
                releases = n,
                "feed snapshot held back by the churn guard"
            );
            return Ok(report(Outcome::HeldBack, &applied, Some("churn_held_back")));
        }
        self.record_success_gauge(&saved);
        tracing::info!(
            feed = saved.id,
            source,
            created = applied.created,
            moved = applied.moved,
            released = applied.released,
            "feed synced"
        );
        Ok(report(Outcome::Ok, &applied, None))
    }

    pub(super) async fn record_failure(
        &self,
        feed: &Feed,
        failure: Failure,
    ) -> Result<SyncReport, SyncError> {
        let now = Timestamp::now();
        let failures = feed.state.failures.saturating_add(1);
        let wait = backoff(
            failures,
            self.settings.retry_base,
            self.settings.retry_max,
            rand::random(),
        );
        let wait = match &failure {
            Failure::Fetch(e) => e
                .retry_after()
                .filter(|d| *d <= MAX_RETRY_AFTER)
                .map_or(wait, |asked| asked.max(wait)),
            Failure::Parse(_) => wait,
        };
        let (code, detail) = (failure.code(), failure.detail());
        let source = feed.spec.source.as_str();
        metrics::counter!("ical_sync_errors_total", "source" => source, "error_type" => code)
            .increment(1);
        tracing::warn!(feed = feed.id, source, error = code, %detail, failures, "feed sync failed");
        self.store
            .update_feed_state(feed.id, move |s| {
                s.last_attempt = Some(now);
                s.failures = failures;
                s.last_error = Some(code.to_owned());
                s.last_error_detail = Some(detail);
                s.next_run = now.checked_add(wait).ok();
            })
            .await?
            .ok_or(SyncError::NotFound)?;
        Ok(report(Outcome::Error, &Applied::default(), Some(code)))
    }

    fn record_success_gauge(&self, feed: &Feed) {
        if let Some(at) = feed.state.last_success {
            metrics::gauge!("ical_feed_last_success_timestamp_seconds", "feed" => feed.id.to_string())
                .set(at.as_second() as f64);
        }
    }
}

fn succeeded(state: &mut FeedState, now: Timestamp) {
    state.last_attempt = Some(now);
    state.last_success = Some(now);
    state.failures = 0;
    state.last_error = None;
    state.last_error_detail = None;
}

fn report(outcome: Outcome, applied: &Applied, error: Option<&str>) -> SyncReport {
    SyncReport {
        outcome,
        created: applied.created,
        moved: applied.moved,
        released: applied.released,
        conflicts: applied.conflicts.len() as u32,
        held_back: applied.held_back.unwrap_or(0),
        error: error.map(str::to_owned),
    }
}
