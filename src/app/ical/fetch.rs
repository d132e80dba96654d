//! Fetching and parsing a feed off the request path: on a thread of its own in the kernel's
//! idle scheduling class.

use super::IcalSync;
use super::record::Failure;
use crate::background::{self, Priority};
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
        background::run("ical-fetch", Priority::Idle, move || {
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
