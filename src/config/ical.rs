//! The `[ical]` section: export UIDs, feed fetching, the churn guard and staleness thresholds.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ConfigError, cron, duration, invalid};

/// Feeds are never fetched more often than this, whatever the config says.
pub const MIN_SYNC_INTERVAL: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IcalSection {
    pub uid_domain: String,
    pub sync_interval: String,
    pub check_schedule: String,
    pub timeout: String,
    pub max_body_bytes: u64,
    pub max_redirects: u32,
    pub allow_private_addresses: bool,
    pub max_feeds_per_accommodation: u32,
    pub retry_base: String,
    pub retry_max: String,
    pub churn_max_share: f64,
    pub churn_min_releases: u32,
    pub export_history_days: u32,
    pub degraded_after: String,
    pub unhealthy_after: String,
}

impl Default for IcalSection {
    fn default() -> Self {
        Self {
            uid_domain: "alojamientos.local".into(),
            sync_interval: "15m".into(),
            check_schedule: "0 * * * * *".into(),
            timeout: "20s".into(),
            max_body_bytes: 10 * 1024 * 1024,
            max_redirects: 5,
            allow_private_addresses: false,
            max_feeds_per_accommodation: 10,
            retry_base: "1m".into(),
            retry_max: "1h".into(),
            churn_max_share: 0.5,
            churn_min_releases: 3,
            export_history_days: 30,
            degraded_after: "20m".into(),
            unhealthy_after: "40m".into(),
        }
    }
}

/// Validated `[ical]` settings.
#[derive(Debug, Clone)]
pub struct IcalSettings {
    /// Domain of our export UIDs; feed events with UIDs in it are our own echo.
    pub uid_domain: String,
    pub sync_interval: Duration,
    /// Six-field cron schedule of the job that syncs due feeds.
    pub check_schedule: String,
    pub timeout: Duration,
    pub max_body_bytes: u64,
    pub max_redirects: u32,
    /// Feeds may be fetched from loopback, private and link-local addresses (a LAN calendar);
    /// metadata and unroutable addresses stay refused.
    pub allow_private_addresses: bool,
    /// Import feeds one accommodation may have.
    pub max_feeds_per_accommodation: u32,
    pub retry_base: Duration,
    pub retry_max: Duration,
    pub churn_max_share: f64,
    pub churn_min_releases: u32,
    /// The export keeps stays that ended up to this many days ago.
    pub export_history_days: u32,
    pub degraded_after: Duration,
    pub unhealthy_after: Duration,
}

impl IcalSection {
    pub fn validate(self) -> Result<IcalSettings, ConfigError> {
        let domain = self.uid_domain.trim().to_ascii_lowercase();
        let domain_ok = !domain.is_empty()
            && domain.len() <= 253
            && domain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if !domain_ok {
            return Err(invalid(
                "ical.uid_domain",
                "must be a domain name such as cabanas.example.com",
            ));
        }
        let sync_interval = duration("ical.sync_interval", &self.sync_interval)?;
        if sync_interval < MIN_SYNC_INTERVAL {
            return Err(invalid(
                "ical.sync_interval",
                "must be at least 5m (OTAs throttle faster polling)",
            ));
        }
        let timeout = duration("ical.timeout", &self.timeout)?;
        if !(Duration::from_secs(1)..=Duration::from_secs(300)).contains(&timeout) {
            return Err(invalid("ical.timeout", "must be between 1s and 5m"));
        }
        if !(1024..=100 * 1024 * 1024).contains(&self.max_body_bytes) {
            return Err(invalid(
                "ical.max_body_bytes",
                "must be between 1024 and 104857600",
            ));
        }
        if !(1..=100).contains(&self.max_feeds_per_accommodation) {
            return Err(invalid(
                "ical.max_feeds_per_accommodation",
                "must be between 1 and 100",
            ));
        }
        if self.max_redirects > 20 {
            return Err(invalid("ical.max_redirects", "must be at most 20"));
        }
        let retry_base = duration("ical.retry_base", &self.retry_base)?;
        let retry_max = duration("ical.retry_max", &self.retry_max)?;
        if retry_base.is_zero() || retry_max < retry_base {
            return Err(invalid(
                "ical.retry_max",
                "must be at least ical.retry_base, which must not be 0",
            ));
        }
        if !(0.0..=1.0).contains(&self.churn_max_share) {
            return Err(invalid("ical.churn_max_share", "must be between 0 and 1"));
        }
        let degraded_after = duration("ical.degraded_after", &self.degraded_after)?;
        let unhealthy_after = duration("ical.unhealthy_after", &self.unhealthy_after)?;
        if unhealthy_after <= degraded_after {
            return Err(invalid(
                "ical.unhealthy_after",
                "must be longer than ical.degraded_after",
            ));
        }
        Ok(IcalSettings {
            uid_domain: domain,
            sync_interval,
            check_schedule: cron("ical.check_schedule", &self.check_schedule)?,
            timeout,
            max_body_bytes: self.max_body_bytes,
            max_redirects: self.max_redirects,
            allow_private_addresses: self.allow_private_addresses,
            max_feeds_per_accommodation: self.max_feeds_per_accommodation,
            retry_base,
            retry_max,
            churn_max_share: self.churn_max_share,
            churn_min_releases: self.churn_min_releases,
            export_history_days: self.export_history_days.min(3650),
            degraded_after,
            unhealthy_after,
        })
    }
}
