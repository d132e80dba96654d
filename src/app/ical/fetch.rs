//! Fetching and parsing a feed off the request path: on a thread of its own in the kernel's
//! idle scheduling class.

use super::IcalSync;
use super::record::Failure;
use crate::domain::ical::feed::{FeedRules, ParsedFeed, parse};
use crate::domain::ical::import::Feed;
use crate::integrations::ical_fetch::{self as fetch, FetchError, Fetched};

impl IcalSync {
    pub(super) async fn fetch_and_parse(
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
