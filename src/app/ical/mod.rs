//! iCal sync with OTAs: which feeds are due, one sync at a time per feed and a few at once per
//! round, its metrics, and the public UIDs of our export. Fetching is `fetch.rs`, what an
//! attempt leaves behind `record.rs`, serving our own calendar `publish.rs`.

mod fetch;
mod publish;
mod record;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::Serialize;
use tokio::sync::Semaphore;
use ureq::Agent;

use crate::config::{IcalSettings, Settings};
use crate::domain::ical::Source;
use crate::domain::ical::import::Feed;
use crate::integrations::outbound::Limits;
use crate::integrations::public_address::{Checked, allowed, checked_agent};
use crate::secret::Keyed;
use crate::store::{Store, StoreError};
use publish::ExportCache;
pub use publish::Rendered;

/// Feeds fetched at the same time by one scheduler round.
const PARALLEL_FETCHES: usize = 4;

/// How one sync ended (`ical_sync_runs_total{result}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A snapshot was read and applied.
    Ok,
    /// The feed answered 304.
    NotModified,
    /// The snapshot would release too much at once; nothing was applied.
    HeldBack,
    /// Nothing usable came back; nothing was released.
    Error,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::NotModified => "not_modified",
            Outcome::HeldBack => "held_back",
            Outcome::Error => "error",
        }
    }
}

/// What a sync did, for the admin's "sync now".
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SyncReport {
    pub outcome: Outcome,
    pub created: u32,
    pub moved: u32,
    pub released: u32,
    /// Imported stays that overlap local reservations after this sync.
    pub conflicts: u32,
    /// Releases held back by the churn guard.
    pub held_back: u32,
    /// Stable error code when `outcome` is `error`.
    pub error: Option<String>,
}

/// Why a sync could not start.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("no such feed")]
    NotFound,
    #[error("this feed is being synced right now")]
    InProgress,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The sync service: one per process, shared by the scheduler and the admin API.
pub struct IcalSync {
    store: Store,
    settings: IcalSettings,
    time_zone: jiff::tz::TimeZone,
    agent: Agent,
    in_flight: Mutex<HashSet<u64>>,
    parallel: Arc<Semaphore>,
    exports: ExportCache,
}

/// Marks a feed as being synced until dropped.
struct InFlight<'a> {
    set: &'a Mutex<HashSet<u64>>,
    id: u64,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.id);
    }
}

impl IcalSync {
    pub fn new(store: Store, settings: &Settings) -> IcalSync {
        let ical = settings.ical.clone();
        IcalSync {
            agent: checked_agent(
                Limits {
                    timeout: ical.timeout,
                    max_redirects: ical.max_redirects,
                },
                {
                    let allow_private = ical.allow_private_addresses;
                    Checked::new(move |ip| allowed(ip, allow_private))
                },
            ),
            store,
            settings: ical,
            time_zone: settings.time_zone.clone(),
            in_flight: Mutex::new(HashSet::new()),
            parallel: Arc::new(Semaphore::new(PARALLEL_FETCHES)),
            exports: ExportCache::default(),
        }
    }

    /// Public UIDs for one accommodation's export: an HMAC of each stay's code under the
    /// accommodation's UID key, so the code itself (which a guest could use with our API)
    /// never leaves, and UIDs stay stable across token rotations.
    pub fn export_uids(&self, uid_key: &str) -> impl Fn(&str) -> String + '_ {
        let keyed = Keyed::new(uid_key.as_bytes());
        move |code| {
            let mut uid = keyed.hex_prefix(code.as_bytes(), 16);
            uid.push('@');
            uid.push_str(&self.settings.uid_domain);
            uid
        }
    }

    fn claim(&self, id: u64) -> Option<InFlight<'_>> {
        let mut set = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        set.insert(id).then_some(InFlight {
            set: &self.in_flight,
            id,
        })
    }

    /// Syncs every enabled feed whose next run is due; returns how many ran.
    pub async fn sync_due(self: &Arc<Self>) -> Result<usize, StoreError> {
        let now = Timestamp::now();
        let due: Vec<u64> = self
            .store
            .feeds(None)?
            .into_iter()
            .filter(|f| f.spec.enabled && f.state.next_run.is_none_or(|t| t <= now))
            .map(|f| f.id)
            .collect();
        let mut tasks = tokio::task::JoinSet::new();
        for id in due {
            let this = self.clone();
            tasks.spawn(async move {
                let _permit = this.parallel.clone().acquire_owned().await;
                match this.sync(id, false).await {
                    Ok(_) | Err(SyncError::NotFound | SyncError::InProgress) => Ok(()),
                    Err(SyncError::Store(e)) => Err(e),
                }
            });
        }
        let mut ran = 0;
        while let Some(joined) = tasks.join_next().await {
            if let Ok(result) = joined {
                result?;
                ran += 1;
            }
        }
        self.record_staleness()?;
        Ok(ran)
    }

    /// Fetches one feed now and applies what it says. `accept_churn` lets a snapshot through
    /// that the churn guard would hold back.
    pub async fn sync(&self, id: u64, accept_churn: bool) -> Result<SyncReport, SyncError> {
        let _guard = self.claim(id).ok_or(SyncError::InProgress)?;
        let feed = self.store.feed(id)?.ok_or(SyncError::NotFound)?;
        let source = feed.spec.source;
        let started = Instant::now();
        let fetched = self.fetch_and_parse(&feed).await;
        let report = match fetched {
            Ok(None) => self.record_unchanged(id).await?,
            Ok(Some((parsed, etag, last_modified))) => {
                self.apply(&feed, parsed, etag, last_modified, accept_churn)
                    .await?
            }
            Err(failure) => self.record_failure(&feed, failure).await?,
        };
        metrics::histogram!("ical_sync_duration_seconds", "source" => source.as_str())
            .record(started.elapsed().as_secs_f64());
        metrics::counter!("ical_sync_runs_total", "source" => source.as_str(), "result" => report.outcome.as_str())
            .increment(1);
        Ok(report)
    }

    /// Sets `ical_last_sync_age_minutes` from the store.
    pub fn record_staleness(&self) -> Result<(), StoreError> {
        let age = oldest_age(&self.store.feeds(None)?, Timestamp::now());
        metrics::gauge!("ical_last_sync_age_minutes")
            .set(age.map_or(0.0, |d| d.as_secs_f64() / 60.0));
        Ok(())
    }

    /// The thresholds health compares [`oldest_age`] with.
    pub fn staleness_limits(&self) -> (Duration, Duration) {
        (self.settings.degraded_after, self.settings.unhealthy_after)
    }

    /// Pre-registers the counters so dashboards see zeros before the first sync.
    pub fn register_metrics() {
        for source in Source::ALL.map(Source::as_str) {
            for result in ["ok", "not_modified", "held_back", "error"] {
                metrics::counter!("ical_sync_runs_total", "source" => source, "result" => result)
                    .increment(0);
            }
            for name in [
                "ical_events_imported_total",
                "ical_events_released_total",
                "ical_conflicts_total",
            ] {
                metrics::counter!(name, "source" => source).increment(0);
            }
        }
    }
}

/// How long ago the stalest enabled feed last succeeded (counting from its creation when it
/// never has); `None` without enabled feeds.
pub fn oldest_age(feeds: &[Feed], now: Timestamp) -> Option<Duration> {
    feeds
        .iter()
        .filter(|f| f.spec.enabled)
        .map(|f| {
            let since = f.state.last_success.unwrap_or(f.created_at);
            Duration::try_from(now.duration_since(since)).unwrap_or(Duration::ZERO)
        })
        .max()
}
