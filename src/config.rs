//! Typed settings: the TOML file, overridden by `ALOJAMIENTOS_*` environment variables (`__`
//! for nesting), secrets also readable from files (`*_file` keys / `*__…_FILE` variables).
//! Validated once at start; an invalid value fails fast naming its key.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::domain::hold_limits::HoldLimits;
use crate::domain::money::Rate;

mod backup;
pub use backup::{BackupSection, BackupSettings};
mod email;
pub use email::{EmailSection, EmailSettings, SmtpSettings, TlsMode};
mod connections;
pub use connections::ConnectionSettings;
mod holds;
pub use holds::HoldsSection;
mod ical;
pub use ical::{IcalSection, IcalSettings, MIN_SYNC_INTERVAL};
mod mercadopago;
mod site;
mod tls;
mod whatsapp;

pub use mercadopago::{BackUrls, MercadoPagoSection, MercadoPagoSettings, WEBHOOK_PATH};
pub use site::{SiteSection, SiteSettings};
pub use tls::{AcmeSettings, CertSource, Challenge, TlsSection, TlsSettings};
pub use whatsapp::{WhatsAppSection, WhatsAppSettings};

/// The commented example config, embedded so `alojamientos config default` can print it.
pub const DEFAULT_CONFIG: &str = include_str!("../config/alojamientos.toml");

/// Raw settings as read from file and environment, before validation. Missing keys come from
/// `RawSettings::default()`, merged underneath by figment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSettings {
    pub server: ServerSection,
    pub property: PropertySection,
    pub reservations: ReservationsSection,
    pub holds: HoldsSection,
    pub rate_limit: RateLimitSection,
    pub admin: AdminSection,
    pub metrics: MetricsSection,
    pub jobs: JobsSection,
    pub health: HealthSection,
    pub log: LogSection,
    pub ical: IcalSection,
    pub mercadopago: MercadoPagoSection,
    pub backup: BackupSection,
    pub whatsapp: WhatsAppSection,
    pub email: EmailSection,
    pub site: SiteSection,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    pub listen: String,
    pub data_dir: PathBuf,
    pub body_limit_bytes: usize,
    pub cache_size_mb: usize,
    pub min_free_mb: u64,
    pub quick_repair: bool,
    pub trusted_proxies: Vec<String>,
    pub shutdown_grace: String,
    pub header_read_timeout: String,
    pub body_read_timeout: String,
    pub keep_alive_timeout: String,
    pub max_connections: usize,
    pub max_connections_per_client: usize,
    pub public_base_url: String,
    pub tls: TlsSection,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PropertySection {
    pub name: String,
    pub time_zone: String,
    pub currency: String,
    pub default_country_code: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReservationsSection {
    pub hold_duration: String,
    pub deposit_percent: u32,
    pub max_nights: u32,
    pub lock_timeout: String,
    pub idempotency_ttl: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSection {
    pub enabled: bool,
    pub per_second: u32,
    pub burst: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSection {
    pub initial_email: String,
    pub session_ttl: String,
    pub login_concurrency: usize,
    pub login_wait: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    pub listen: String,
    pub token: String,
    pub token_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsSection {
    pub expire_holds: String,
    pub complete_stays: String,
    pub purge_idempotency: String,
    pub stale_after: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthSection {
    pub disk_degraded_percent: f64,
    pub disk_unhealthy_percent: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    pub filter: String,
    pub format: String,
    pub slow_request: String,
}

impl Default for RawSettings {
    fn default() -> Self {
        Self {
            server: ServerSection {
                listen: "127.0.0.1:8080".into(),
                data_dir: "./data".into(),
                body_limit_bytes: 64 * 1024,
                cache_size_mb: 8,
                quick_repair: false,
                min_free_mb: 64,
                trusted_proxies: vec![],
                shutdown_grace: "30s".into(),
                header_read_timeout: connections::DEFAULTS.0.into(),
                body_read_timeout: connections::DEFAULTS.1.into(),
                keep_alive_timeout: connections::DEFAULTS.2.into(),
                max_connections: connections::DEFAULTS.3,
                max_connections_per_client: connections::DEFAULTS.4,
                public_base_url: String::new(),
                tls: TlsSection::default(),
            },
            property: PropertySection {
                name: "Mi alojamiento".into(),
                time_zone: "America/Argentina/Buenos_Aires".into(),
                currency: "ARS".into(),
                default_country_code: "54".into(),
            },
            reservations: ReservationsSection {
                hold_duration: "30m".into(),
                deposit_percent: 30,
                max_nights: 60,
                lock_timeout: "5s".into(),
                idempotency_ttl: "48h".into(),
            },
            holds: HoldsSection::default(),
            rate_limit: RateLimitSection {
                enabled: true,
                per_second: 5,
                burst: 30,
            },
            admin: AdminSection {
                initial_email: "admin@alojamientos.local".into(),
                session_ttl: "12h".into(),
                login_concurrency: 2,
                login_wait: "3s".into(),
            },
            metrics: MetricsSection {
                listen: String::new(),
                token: String::new(),
                token_file: None,
            },
            jobs: JobsSection {
                expire_holds: "0 * * * * *".into(),
                complete_stays: "0 7 * * * *".into(),
                purge_idempotency: "0 17 3 * * *".into(),
                stale_after: "5m".into(),
            },
            health: HealthSection {
                disk_degraded_percent: 10.0,
                disk_unhealthy_percent: 2.0,
            },
            log: LogSection {
                filter: "info".into(),
                format: "json".into(),
                slow_request: "1s".into(),
            },
            ical: IcalSection::default(),
            mercadopago: MercadoPagoSection::default(),
            backup: BackupSection::default(),
            whatsapp: WhatsAppSection::default(),
            email: EmailSection::default(),
            site: SiteSection::default(),
        }
    }
}

/// A config value that is wrong, with the key that holds it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("config key `{key}`: {reason}")]
    Invalid { key: &'static str, reason: String },
}

fn invalid(key: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        reason: reason.into(),
    }
}

/// Validated settings, ready to use.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub body_limit_bytes: usize,
    /// Page cache of the store, in bytes.
    pub cache_bytes: usize,
    /// Writes are refused (503 `storage_full`) while less than this is free on the store's disk.
    pub min_free_bytes: u64,
    pub trusted_proxies: Vec<IpAddr>,
    /// Commit so that a restart after a crash needs no full repair of the store (slower commits).
    pub quick_repair: bool,
    pub shutdown_grace: Duration,
    /// Timeouts and caps of client connections.
    pub connections: ConnectionSettings,
    /// Where guests and providers reach this server (`server.public_base_url`, or
    /// `https://` + the first ACME domain); every public link is built from it.
    pub public_base_url: Option<String>,
    pub tls: TlsSettings,
    pub property_name: String,
    pub time_zone: TimeZone,
    pub currency: String,
    pub default_country_code: String,
    pub hold_duration: Duration,
    pub deposit_share: Rate,
    pub max_nights: u32,
    pub lock_timeout: Duration,
    pub idempotency_ttl: Duration,
    /// Limits on guests' unpaid holds (`[holds]`).
    pub hold_limits: HoldLimits,
    pub rate_limit: Option<RateLimit>,
    pub initial_admin_email: String,
    pub session_ttl: Duration,
    /// Password checks (argon2, 19 MiB each) running at once, and how long a login waits for
    /// one before it is refused as busy.
    pub login_concurrency: usize,
    pub login_wait: Duration,
    pub metrics_listen: Option<SocketAddr>,
    pub metrics_token: Option<String>,
    pub jobs: JobSchedules,
    pub stale_after: Duration,
    /// Free disk space (percent) below which health is degraded, and unhealthy.
    pub disk_degraded_percent: f64,
    pub disk_unhealthy_percent: f64,
    pub log_filter: String,
    pub log_json: bool,
    /// Requests slower than this are logged (at warn) whatever the filter's access level.
    pub log_slow_request: Duration,
    pub ical: IcalSettings,
    pub mercadopago: MercadoPagoSettings,
    pub backup: BackupSettings,
    pub whatsapp: WhatsAppSettings,
    pub email: EmailSettings,
    pub site: SiteSettings,
}

/// Token bucket settings for public endpoints, per client address.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    pub per_second: u32,
    pub burst: u32,
}

/// Six-field cron schedules (seconds first) of the background jobs.
#[derive(Debug, Clone)]
pub struct JobSchedules {
    pub expire_holds: String,
    pub complete_stays: String,
    pub purge_idempotency: String,
}

impl Settings {
    /// Directory of the store snapshots: `backup.dir`, or `<data_dir>/backups`.
    pub fn backup_dir(&self) -> PathBuf {
        self.backup
            .dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("backups"))
    }

    /// Reads defaults, then the file (if given), then the environment, and validates.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(RawSettings::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(invalid(
                    "--config",
                    format!("{} does not exist", path.display()),
                ));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(
            Env::prefixed("ALOJAMIENTOS_")
                .ignore(&["CONFIG"])
                .split("__"),
        );
        let raw: RawSettings = figment.extract().map_err(Box::new)?;
        raw.validate()
    }
}

/// Parses `30s`, `5m`, `12h`, `2d` (or a plain number of seconds).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "" | "s" => n,
        "ms" => return Some(Duration::from_millis(n)),
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3_600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    Some(Duration::from_secs(seconds))
}

fn duration(key: &'static str, text: &str) -> Result<Duration, ConfigError> {
    parse_duration(text)
        .ok_or_else(|| invalid(key, format!("{text:?} is not a duration like 30s, 5m, 12h")))
}

fn cron(key: &'static str, text: &str) -> Result<String, ConfigError> {
    if text.split_whitespace().count() != 6 {
        return Err(invalid(
            key,
            format!("{text:?} must have six fields, seconds first (e.g. \"0 * * * * *\")"),
        ));
    }
    tokio_cron_scheduler::Job::new_async(text, |_, _| Box::pin(async {}))
        .map_err(|e| invalid(key, format!("{text:?} is not a valid schedule: {e}")))?;
    Ok(text.to_owned())
}

fn secret(
    key: &'static str,
    value: String,
    file: Option<PathBuf>,
) -> Result<Option<String>, ConfigError> {
    let value = match file {
        Some(path) => std::fs::read_to_string(&path)
            .map_err(|e| invalid(key, format!("cannot read {}: {e}", path.display())))?
            .trim()
            .to_owned(),
        None => value,
    };
    Ok(Some(value).filter(|v| !v.is_empty()))
}

impl RawSettings {
    /// Checks every value and converts it to its typed form.
    pub fn validate(self) -> Result<Settings, ConfigError> {
        let listen = self.server.listen.parse().map_err(|_| {
            invalid(
                "server.listen",
                format!(
                    "{:?} is not an address like 127.0.0.1:8080",
                    self.server.listen
                ),
            )
        })?;
        if self.server.data_dir.as_os_str().is_empty() {
            return Err(invalid("server.data_dir", "must not be empty"));
        }
        if self.server.body_limit_bytes < 1024 {
            return Err(invalid("server.body_limit_bytes", "must be at least 1024"));
        }
        if !(1..=4096).contains(&self.server.cache_size_mb) {
            return Err(invalid(
                "server.cache_size_mb",
                "must be between 1 and 4096",
            ));
        }
        let trusted_proxies = self
            .server
            .trusted_proxies
            .iter()
            .map(|p| {
                p.parse().map_err(|_| {
                    invalid(
                        "server.trusted_proxies",
                        format!("{p:?} is not an IP address"),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        let time_zone = TimeZone::get(&self.property.time_zone).map_err(|_| {
            invalid(
                "property.time_zone",
                format!("{:?} is not an IANA time zone", self.property.time_zone),
            )
        })?;
        let currency = self.property.currency.trim().to_ascii_uppercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(invalid(
                "property.currency",
                "must be a three-letter ISO 4217 code such as ARS",
            ));
        }
        let cc = &self.property.default_country_code;
        if cc.is_empty()
            || cc.len() > 3
            || !cc.bytes().all(|b| b.is_ascii_digit())
            || cc.starts_with('0')
            || crate::domain::contact::region_of(cc).is_none()
        {
            return Err(invalid(
                "property.default_country_code",
                "must be a country calling code such as 54",
            ));
        }
        let hold_duration = duration(
            "reservations.hold_duration",
            &self.reservations.hold_duration,
        )?;
        if hold_duration.is_zero() || hold_duration > Duration::from_secs(7 * 86_400) {
            return Err(invalid(
                "reservations.hold_duration",
                "must be between 1s and 7d",
            ));
        }
        if self.reservations.deposit_percent > 100 {
            return Err(invalid(
                "reservations.deposit_percent",
                "must be between 0 and 100",
            ));
        }
        if !(1..=crate::domain::stay::MAX_NIGHTS).contains(&self.reservations.max_nights) {
            return Err(invalid(
                "reservations.max_nights",
                "must be between 1 and 365",
            ));
        }
        let rate_limit = if self.rate_limit.enabled {
            if self.rate_limit.per_second == 0 {
                return Err(invalid("rate_limit.per_second", "must be at least 1"));
            }
            if self.rate_limit.burst == 0 {
                return Err(invalid("rate_limit.burst", "must be at least 1"));
            }
            Some(RateLimit {
                per_second: self.rate_limit.per_second,
                burst: self.rate_limit.burst,
            })
        } else {
            None
        };
        if crate::domain::contact::normalize_email(&self.admin.initial_email).is_none() {
            return Err(invalid("admin.initial_email", "is not an email address"));
        }
        let metrics_listen =
            match self.metrics.listen.trim() {
                "" => None,
                text => Some(text.parse().map_err(|_| {
                    invalid("metrics.listen", format!("{text:?} is not an address"))
                })?),
            };
        for (key, value) in [
            (
                "health.disk_degraded_percent",
                self.health.disk_degraded_percent,
            ),
            (
                "health.disk_unhealthy_percent",
                self.health.disk_unhealthy_percent,
            ),
        ] {
            if !(0.0..=100.0).contains(&value) {
                return Err(invalid(key, "must be between 0 and 100"));
            }
        }
        let lock_timeout = duration("reservations.lock_timeout", &self.reservations.lock_timeout)?;
        if !(Duration::from_millis(100)..=Duration::from_secs(60)).contains(&lock_timeout) {
            return Err(invalid(
                "reservations.lock_timeout",
                "must be between 100ms and 60s",
            ));
        }
        let session_ttl = duration("admin.session_ttl", &self.admin.session_ttl)?;
        if !(Duration::from_secs(1)..=Duration::from_secs(30 * 86_400)).contains(&session_ttl) {
            return Err(invalid("admin.session_ttl", "must be between 1s and 30d"));
        }
        if !(1..=16).contains(&self.admin.login_concurrency) {
            return Err(invalid(
                "admin.login_concurrency",
                "must be between 1 and 16",
            ));
        }
        let login_wait = duration("admin.login_wait", &self.admin.login_wait)?;
        if login_wait > Duration::from_secs(60) {
            return Err(invalid("admin.login_wait", "must be at most 60s"));
        }
        let log_json = match self.log.format.as_str() {
            "json" => true,
            "pretty" => false,
            other => {
                return Err(invalid(
                    "log.format",
                    format!("{other:?} must be json or pretty"),
                ));
            }
        };
        let connections = connections::validate(&self.server)?;
        let tls = self.server.tls.validate()?;
        let public_base_url = tls::public_base_url(&self.server.public_base_url, &tls)?;
        let mut mercadopago = self.mercadopago.validate()?;
        if mercadopago.notification_url.is_none() {
            mercadopago.notification_url = public_base_url
                .as_ref()
                .map(|base| format!("{base}{WEBHOOK_PATH}"));
        }
        Ok(Settings {
            listen,
            data_dir: self.server.data_dir,
            body_limit_bytes: self.server.body_limit_bytes,
            cache_bytes: self.server.cache_size_mb * 1024 * 1024,
            min_free_bytes: self.server.min_free_mb.saturating_mul(1024 * 1024),
            quick_repair: self.server.quick_repair,
            trusted_proxies,
            shutdown_grace: duration("server.shutdown_grace", &self.server.shutdown_grace)?,
            connections,
            public_base_url,
            tls,
            property_name: self.property.name,
            time_zone,
            currency,
            default_country_code: self.property.default_country_code,
            hold_duration,
            deposit_share: Rate::percent(self.reservations.deposit_percent),
            max_nights: self.reservations.max_nights,
            lock_timeout,
            idempotency_ttl: duration(
                "reservations.idempotency_ttl",
                &self.reservations.idempotency_ttl,
            )?,
            hold_limits: self.holds.validate(self.reservations.max_nights)?,
            rate_limit,
            initial_admin_email: self.admin.initial_email,
            session_ttl,
            login_concurrency: self.admin.login_concurrency,
            login_wait,
            metrics_listen,
            metrics_token: secret("metrics.token", self.metrics.token, self.metrics.token_file)?,
            jobs: JobSchedules {
                expire_holds: cron("jobs.expire_holds", &self.jobs.expire_holds)?,
                complete_stays: cron("jobs.complete_stays", &self.jobs.complete_stays)?,
                purge_idempotency: cron("jobs.purge_idempotency", &self.jobs.purge_idempotency)?,
            },
            stale_after: duration("jobs.stale_after", &self.jobs.stale_after)?,
            disk_degraded_percent: self.health.disk_degraded_percent,
            disk_unhealthy_percent: self.health.disk_unhealthy_percent,
            log_filter: self.log.filter,
            log_json,
            log_slow_request: duration("log.slow_request", &self.log.slow_request)?,
            ical: self.ical.validate()?,
            mercadopago,
            backup: self.backup.validate()?,
            whatsapp: self.whatsapp.validate()?,
            email: self.email.validate()?,
            site: self.site.validate()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_example_is_valid_and_matches_the_defaults() {
        let from_file: RawSettings = toml_from_example();
        let a = serde_json::to_value(&from_file).unwrap();
        let b = serde_json::to_value(RawSettings::default()).unwrap();
        assert_eq!(
            a, b,
            "config/alojamientos.toml and RawSettings::default() disagree"
        );
        from_file.validate().unwrap();
    }

    fn toml_from_example() -> RawSettings {
        Figment::from(Toml::string(DEFAULT_CONFIG))
            .extract()
            .unwrap()
    }

    #[test]
    fn invalid_values_name_their_key() {
        type Break = fn(&mut RawSettings);
        let cases: [(&str, Break); 12] = [
            ("backup.keep", |r| r.backup.keep = 0),
            ("backup.schedule", |r| r.backup.schedule = "daily".into()),
            ("ical.sync_interval", |r| r.ical.sync_interval = "1m".into()),
            ("ical.uid_domain", |r| {
                r.ical.uid_domain = "no spaces".into()
            }),
            ("property.time_zone", |r| {
                r.property.time_zone = "Mars/Olympus".into()
            }),
            ("reservations.hold_duration", |r| {
                r.reservations.hold_duration = "soon".into()
            }),
            ("jobs.expire_holds", |r| {
                r.jobs.expire_holds = "* * * * *".into()
            }),
            ("jobs.complete_stays", |r| {
                r.jobs.complete_stays = "0 99 * * * *".into()
            }),
            ("rate_limit.burst", |r| r.rate_limit.burst = 0),
            ("reservations.lock_timeout", |r| {
                r.reservations.lock_timeout = "0s".into()
            }),
            ("mercadopago.public_base_url", |r| {
                r.mercadopago.public_base_url = "reservas.example.com".into()
            }),
            ("mercadopago.reconcile", |r| {
                r.mercadopago.reconcile = "*/5 * * * *".into()
            }),
        ];
        for (key, break_it) in cases {
            let mut raw = RawSettings::default();
            break_it(&mut raw);
            let message = raw.validate().unwrap_err().to_string();
            assert!(message.contains(key), "{key}: {message}");
        }
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("30m"), Some(Duration::from_secs(1800)));
        assert_eq!(parse_duration("48h"), Some(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("10"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration("5y"), None);
    }
}
