//! The `[mercadopago]` section: API access, webhook secret, links and the outbound limits.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ConfigError, cron, duration, invalid, secret};

/// Path of the webhook, appended to `public_base_url` for `notification_url`.
pub const WEBHOOK_PATH: &str = "/api/v1/webhooks/mercadopago";

/// `[mercadopago]` as written in the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MercadoPagoSection {
    pub api_base_url: String,
    pub access_token: String,
    pub access_token_file: Option<PathBuf>,
    pub webhook_secret: String,
    pub webhook_secret_file: Option<PathBuf>,
    pub public_base_url: String,
    pub success_url: String,
    pub failure_url: String,
    pub pending_url: String,
    pub signature_tolerance: String,
    pub timeout: String,
    pub max_retries: u32,
    pub retry_base: String,
    pub retry_cap: String,
    pub reconcile: String,
    pub inbox_sweep: String,
}

impl Default for MercadoPagoSection {
    fn default() -> Self {
        Self {
            api_base_url: "https://api.mercadopago.com".into(),
            access_token: String::new(),
            access_token_file: None,
            webhook_secret: String::new(),
            webhook_secret_file: None,
            public_base_url: String::new(),
            success_url: String::new(),
            failure_url: String::new(),
            pending_url: String::new(),
            signature_tolerance: "5m".into(),
            timeout: "10s".into(),
            max_retries: 3,
            retry_base: "500ms".into(),
            retry_cap: "10s".into(),
            reconcile: "0 */5 * * * *".into(),
            inbox_sweep: "30s".into(),
        }
    }
}

/// Where Checkout Pro sends the guest back to.
#[derive(Debug, Clone, Default)]
pub struct BackUrls {
    pub success: Option<String>,
    pub failure: Option<String>,
    pub pending: Option<String>,
}

/// Validated Mercado Pago settings.
#[derive(Debug, Clone)]
pub struct MercadoPagoSettings {
    /// API root without a trailing slash.
    pub api_base_url: String,
    /// Payments are on when this is set.
    pub access_token: Option<String>,
    /// The webhook refuses everything while this is unset.
    pub webhook_secret: Option<String>,
    /// `notification_url` of new preferences (none: the one set in Mercado Pago's panel).
    pub notification_url: Option<String>,
    pub back_urls: BackUrls,
    pub signature_tolerance: Duration,
    pub timeout: Duration,
    pub max_retries: u32,
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// Cron schedule of the reconciliation job.
    pub reconcile: String,
    /// How often the webhook inbox is swept for notifications still to process.
    pub inbox_sweep: Duration,
}

fn url(key: &'static str, text: &str) -> Result<Option<String>, ConfigError> {
    let text = text.trim().trim_end_matches('/');
    if text.is_empty() {
        return Ok(None);
    }
    if !(text.starts_with("https://") || text.starts_with("http://")) || text.contains(' ') {
        return Err(invalid(key, format!("{text:?} is not an http(s) URL")));
    }
    Ok(Some(text.to_owned()))
}

fn bounded(
    key: &'static str,
    text: &str,
    min: Duration,
    max: Duration,
) -> Result<Duration, ConfigError> {
    let d = duration(key, text)?;
    if !(min..=max).contains(&d) {
        return Err(invalid(key, format!("must be between {min:?} and {max:?}")));
    }
    Ok(d)
}

impl MercadoPagoSection {
    /// Checks every value and converts it to its typed form.
    pub fn validate(self) -> Result<MercadoPagoSettings, ConfigError> {
        let api_base_url = url("mercadopago.api_base_url", &self.api_base_url)?
            .ok_or_else(|| invalid("mercadopago.api_base_url", "must not be empty"))?;
        let public = url("mercadopago.public_base_url", &self.public_base_url)?;
        if self.max_retries > 10 {
            return Err(invalid("mercadopago.max_retries", "must be at most 10"));
        }
        let ms = Duration::from_millis;
        let s = Duration::from_secs;
        Ok(MercadoPagoSettings {
            api_base_url,
            access_token: secret(
                "mercadopago.access_token",
                self.access_token,
                self.access_token_file,
            )?,
            webhook_secret: secret(
                "mercadopago.webhook_secret",
                self.webhook_secret,
                self.webhook_secret_file,
            )?,
            notification_url: public.map(|p| format!("{p}{WEBHOOK_PATH}")),
            back_urls: BackUrls {
                success: url("mercadopago.success_url", &self.success_url)?,
                failure: url("mercadopago.failure_url", &self.failure_url)?,
                pending: url("mercadopago.pending_url", &self.pending_url)?,
            },
            signature_tolerance: bounded(
                "mercadopago.signature_tolerance",
                &self.signature_tolerance,
                s(1),
                s(3_600),
            )?,
            timeout: bounded("mercadopago.timeout", &self.timeout, ms(100), s(120))?,
            max_retries: self.max_retries,
            retry_base: bounded("mercadopago.retry_base", &self.retry_base, ms(1), s(60))?,
            retry_cap: bounded("mercadopago.retry_cap", &self.retry_cap, ms(1), s(600))?,
            reconcile: cron("mercadopago.reconcile", &self.reconcile)?,
            inbox_sweep: bounded(
                "mercadopago.inbox_sweep",
                &self.inbox_sweep,
                ms(50),
                s(3_600),
            )?,
        })
    }
}
