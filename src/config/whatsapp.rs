//! The `[whatsapp]` section: Graph API access, webhook secrets, the host's number, the
//! conversation timeouts, outbound retries and the help topics the bot answers.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ConfigError, duration, invalid, secret};

/// A string that the environment may have turned into a number (`…__PHONE_NUMBER_ID=1029…`).
fn text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Unsigned(u64),
        Signed(i64),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::Text(t) => t,
        Raw::Unsigned(n) => n.to_string(),
        Raw::Signed(n) => n.to_string(),
    })
}

/// `[whatsapp]` as written in the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatsAppSection {
    pub api_base_url: String,
    pub api_version: String,
    #[serde(deserialize_with = "text_or_number")]
    pub phone_number_id: String,
    #[serde(deserialize_with = "text_or_number")]
    pub access_token: String,
    pub access_token_file: Option<PathBuf>,
    #[serde(deserialize_with = "text_or_number")]
    pub app_secret: String,
    pub app_secret_file: Option<PathBuf>,
    #[serde(deserialize_with = "text_or_number")]
    pub verify_token: String,
    pub verify_token_file: Option<PathBuf>,
    #[serde(deserialize_with = "text_or_number")]
    pub host_phone: String,
    pub conversation_timeout: String,
    pub handover_timeout: String,
    pub reminder_before: String,
    pub template_name: String,
    pub template_language: String,
    pub timeout: String,
    pub retry_base: String,
    pub retry_cap: String,
    pub max_attempts: u32,
    pub outbox_sweep: String,
    pub check_in_time: String,
    pub check_out_time: String,
    pub address: String,
    pub contact: String,
    pub policies: String,
    pub stt_command: String,
    pub stt_timeout: String,
    pub media_max_bytes: u64,
}

impl Default for WhatsAppSection {
    fn default() -> Self {
        Self {
            api_base_url: "https://graph.facebook.com".into(),
            api_version: "v21.0".into(),
            phone_number_id: String::new(),
            access_token: String::new(),
            access_token_file: None,
            app_secret: String::new(),
            app_secret_file: None,
            verify_token: String::new(),
            verify_token_file: None,
            host_phone: String::new(),
            conversation_timeout: "30m".into(),
            handover_timeout: "12h".into(),
            reminder_before: "10m".into(),
            template_name: String::new(),
            template_language: "es_AR".into(),
            timeout: "10s".into(),
            retry_base: "1s".into(),
            retry_cap: "5m".into(),
            max_attempts: 10,
            outbox_sweep: "5s".into(),
            check_in_time: "14:00".into(),
            check_out_time: "10:00".into(),
            address: String::new(),
            contact: String::new(),
            policies: String::new(),
            stt_command: String::new(),
            stt_timeout: "60s".into(),
            media_max_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Validated WhatsApp settings.
#[derive(Debug, Clone)]
pub struct WhatsAppSettings {
    /// Graph API root without a trailing slash.
    pub api_base_url: String,
    pub api_version: String,
    /// Sending is on when this and `access_token` are set.
    pub phone_number_id: Option<String>,
    pub access_token: Option<String>,
    /// The webhook refuses every event while this is unset.
    pub app_secret: Option<String>,
    /// The verification handshake fails while this is unset.
    pub verify_token: Option<String>,
    /// The host's number (digits, international) for notifications and handovers.
    pub host_phone: Option<String>,
    /// A conversation idle this long starts over.
    pub conversation_timeout: Duration,
    /// After a handover the bot stays silent in that chat this long (or until handed back).
    pub handover_timeout: Duration,
    /// A guest whose hold lapses within this gets one reminder with the payment link.
    pub reminder_before: Duration,
    /// Approved template for messages outside the 24-hour window (none: those wait).
    pub template_name: Option<String>,
    pub template_language: String,
    pub timeout: Duration,
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// Attempts at one message before it is marked failed.
    pub max_attempts: u32,
    pub outbox_sweep: Duration,
    pub check_in_time: String,
    pub check_out_time: String,
    pub address: String,
    pub contact: String,
    pub policies: String,
    /// Speech-to-text program for voice notes (the audio file's path is its last argument;
    /// the transcript is its standard output); none: guests are asked to write.
    pub stt_command: Option<Vec<String>>,
    pub stt_timeout: Duration,
    /// Voice notes larger than this are not downloaded.
    pub media_max_bytes: u64,
}

/// `text` as a duration between `min` and `max`.
pub(super) fn bounded(
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

/// The trimmed text, or none when it is empty.
pub(super) fn non_empty(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

impl WhatsAppSection {
    /// Checks every value and converts it to its typed form.
    pub fn validate(self) -> Result<WhatsAppSettings, ConfigError> {
        let base = self.api_base_url.trim().trim_end_matches('/');
        if !(base.starts_with("https://") || base.starts_with("http://")) || base.contains(' ') {
            return Err(invalid(
                "whatsapp.api_base_url",
                format!("{base:?} is not an http(s) URL"),
            ));
        }
        let version = self.api_version.trim();
        if !version.starts_with('v') || version.len() < 2 || version.contains('/') {
            return Err(invalid("whatsapp.api_version", "must look like v21.0"));
        }
        let host_phone =
            non_empty(&self.host_phone).map(|p| p.trim_start_matches('+').replace([' ', '-'], ""));
        if host_phone
            .as_ref()
            .is_some_and(|p| p.len() < 8 || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(invalid(
                "whatsapp.host_phone",
                "must be an international number such as 5491122334455",
            ));
        }
        if !(1024..=100 * 1024 * 1024).contains(&self.media_max_bytes) {
            return Err(invalid(
                "whatsapp.media_max_bytes",
                "must be between 1024 and 104857600",
            ));
        }
        if !(1..=50).contains(&self.max_attempts) {
            return Err(invalid("whatsapp.max_attempts", "must be between 1 and 50"));
        }
        let (ms, s) = (Duration::from_millis, Duration::from_secs);
        Ok(WhatsAppSettings {
            api_base_url: base.to_owned(),
            api_version: version.to_owned(),
            phone_number_id: non_empty(&self.phone_number_id),
            access_token: secret(
                "whatsapp.access_token",
                self.access_token,
                self.access_token_file,
            )?,
            app_secret: secret("whatsapp.app_secret", self.app_secret, self.app_secret_file)?,
            verify_token: secret(
                "whatsapp.verify_token",
                self.verify_token,
                self.verify_token_file,
            )?,
            host_phone,
            conversation_timeout: bounded(
                "whatsapp.conversation_timeout",
                &self.conversation_timeout,
                s(1),
                s(7 * 86_400),
            )?,
            handover_timeout: bounded(
                "whatsapp.handover_timeout",
                &self.handover_timeout,
                s(1),
                s(30 * 86_400),
            )?,
            reminder_before: bounded(
                "whatsapp.reminder_before",
                &self.reminder_before,
                s(1),
                s(86_400),
            )?,
            template_name: non_empty(&self.template_name),
            template_language: self.template_language.trim().to_owned(),
            timeout: bounded("whatsapp.timeout", &self.timeout, ms(100), s(120))?,
            retry_base: bounded("whatsapp.retry_base", &self.retry_base, ms(1), s(600))?,
            retry_cap: bounded("whatsapp.retry_cap", &self.retry_cap, ms(1), s(86_400))?,
            max_attempts: self.max_attempts,
            outbox_sweep: bounded(
                "whatsapp.outbox_sweep",
                &self.outbox_sweep,
                ms(20),
                s(3_600),
            )?,
            check_in_time: self.check_in_time,
            check_out_time: self.check_out_time,
            address: self.address,
            contact: self.contact,
            policies: self.policies,
            stt_command: non_empty(&self.stt_command)
                .map(|c| c.split_whitespace().map(str::to_owned).collect()),
            stt_timeout: bounded("whatsapp.stt_timeout", &self.stt_timeout, s(1), s(600))?,
            media_max_bytes: self.media_max_bytes,
        })
    }
}
