//! iCal sync with OTAs: fetching feeds on schedule or on demand and applying their snapshots,
//! and the public UIDs of our export.

mod publish;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::Serialize;
use tokio::sync::Semaphore;
use ureq::Agent;

use crate::config::{IcalSettings, Settings};
use crate::domain::dates::local_today;
use crate::domain::ical::Source;
use crate::domain::ical::feed::{FeedRules, ParsedFeed, parse};
use crate::domain::ical::import::{Feed, FeedState};
use crate::domain::ical::snapshot::ChurnGuard;
use crate::integrations::outbound::{Limits, agent, backoff};
use crate::secret::Keyed;
use crate::store::{Applied, Snapshot, Store, StoreError};
use crate::integrations::ical_fetch::{self as fetch, FetchError, Fetched};
use publish::ExportCache;
pub use publish::Rendered;

/// Feeds fetched at the same time by one scheduler round.
const PARALLEL_FETCHES: usize = 4;
/// The longest `Retry-After` we honour; beyond it the normal backoff applies.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

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

/// Any failure of one sync attempt, with its stable code.
enum Failure {
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
    pub fn new(store: Store, settings: &Settings) -> IcalSync {
        let ical = settings.ical.clone();
        IcalSync {
            agent: agent(Limits {
                timeout: ical.timeout,
                max_redirects: ical.max_redirects,
            }),
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

    async fn fetch_and_parse(
        &self,
        feed: &Feed,
    ) -> Result<Option<(ParsedFeed, Option<String>, Option<String>)>, Failure> {
        let agent = self.agent.clone();
        let url = feed.spec.url.as_str().to_owned();
        let (etag, last_modified) = (feed.state.etag.clone(), feed.state.last_modified.clone());
        let max = self.settings.max_body_bytes;
        let rules = FeedRules {
            tz: self.time_zone.clone(),
            checkout_is_dtend: feed.spec.checkout_is_dtend,
            own_uid_domain: self.settings.uid_domain.clone(),
        };
        in_background(move || {
            match fetch::fetch(&agent, &url, etag.as_deref(), last_modified.as_deref(), max) {
                Ok(Fetched::NotModified) => Ok(None),
                Ok(Fetched::Body {
                    bytes,
                    etag,
                    last_modified,
                }) => parse(&bytes, &rules)
                    .map(|parsed| Some((parsed, etag, last_modified)))
                    .map_err(Failure::Parse),
                Err(e) => Err(Failure::Fetch(e)),
            }
        })
        .await
        .unwrap_or_else(|| {
            Err(Failure::Fetch(FetchError::Network(
                "fetch thread failed".into(),
            )))
        })
    }

    fn next_run(&self, now: Timestamp) -> Option<Timestamp> {
        let jittered = self
            .settings
            .sync_interval
            .mul_f64(0.9 + 0.2 * rand::random::<f64>());
        now.checked_add(jittered).ok()
    }

    async fn record_unchanged(&self, id: u64) -> Result<SyncReport, SyncError> {
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

    async fn apply(
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

    async fn record_failure(&self, feed: &Feed, failure: Failure) -> Result<SyncReport, SyncError> {
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

/// Runs blocking work (a fetch and its parse) on a thread of its own in the kernel's idle
/// scheduling class (`SCHED_IDLE`; nice +10 where that is refused), so a sync round runs only
/// on CPU time API requests leave over: a waking request thread preempts it at once. Under a
/// load that never leaves the cores idle, syncs wait (and health reports the staleness).
/// `None` if the work panicked.
async fn in_background<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("ical-fetch".into())
        .spawn(move || {
            let param = libc::sched_param { sched_priority: 0 };
            // SAFETY: plain syscalls on the calling thread; lowering its own scheduling class
            // or raising its niceness never needs privileges.
            unsafe {
                if libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) != 0 {
                    libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 10);
                }
            }
            let _ = tx.send(work());
        });
    match spawned {
        Ok(_) => rx.await.ok(),
        Err(e) => {
            tracing::error!(error = %e, "cannot start a fetch thread");
            None
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
