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
mod validate;
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
                expire_holds: "*/10 * * * * *".into(),
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
