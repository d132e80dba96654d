//! Validation of the raw settings: every value checked and converted to its typed form once,
//! at start; an invalid one fails naming its key.

use std::time::Duration;

use jiff::tz::TimeZone;

use super::{
    ConfigError, JobSchedules, RateLimit, RawSettings, Settings, WEBHOOK_PATH, connections, cron,
    duration, invalid, secret, tls,
};
use crate::domain::money::Rate;

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
    use crate::config::{DEFAULT_CONFIG, parse_duration};
    use figment::Figment;
    use figment::providers::{Format, Toml};

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
