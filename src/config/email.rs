//! The `[email]` section: the SMTP server that carries host notices and guest confirmations,
//! the host's address and the outbox's retries. Email is off while `smtp_host` is empty.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;
use serde::{Deserialize, Serialize};

use super::whatsapp::{bounded, non_empty};
use super::{ConfigError, invalid, secret};

/// `[email]` as written in the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSection {
    pub smtp_host: String,
    pub smtp_port: u16,
    pub tls: String,
    pub username: String,
    pub password: String,
    pub password_file: Option<PathBuf>,
    pub from: String,
    pub host_address: String,
    pub timeout: String,
    pub retry_base: String,
    pub retry_cap: String,
    pub max_attempts: u32,
    pub outbox_sweep: String,
}

impl Default for EmailSection {
    fn default() -> Self {
        Self {
            smtp_host: String::new(),
            smtp_port: 587,
            tls: "starttls".into(),
            username: String::new(),
            password: String::new(),
            password_file: None,
            from: String::new(),
            host_address: String::new(),
            timeout: "30s".into(),
            retry_base: "30s".into(),
            retry_cap: "1h".into(),
            max_attempts: 10,
            outbox_sweep: "10s".into(),
        }
    }
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain text (a relay on the same machine or network only).
    None,
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// The SMTP server and the sender, when email is on.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    /// User name and password, when the server wants a login.
    pub credentials: Option<(String, String)>,
    /// `From:` of every message, e.g. `Cabañas del Lago <reservas@example.com>`.
    pub from: String,
}

/// Validated email settings.
#[derive(Debug, Clone)]
pub struct EmailSettings {
    /// None: email is off.
    pub smtp: Option<SmtpSettings>,
    /// Where host notices go; none: the host gets no email (guests still do).
    pub host_address: Option<String>,
    /// Deadline of one SMTP conversation.
    pub timeout: Duration,
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// Attempts at one message before it is marked failed.
    pub max_attempts: u32,
    /// How often events and the outbox are swept.
    pub outbox_sweep: Duration,
}

fn mailbox(key: &'static str, text: &str) -> Result<Option<String>, ConfigError> {
    let Some(text) = non_empty(text) else {
        return Ok(None);
    };
    text.parse::<Mailbox>()
        .map_err(|e| invalid(key, format!("{text:?} is not an email address: {e}")))?;
    Ok(Some(text))
}

impl EmailSection {
    /// Checks every value and converts it to its typed form.
    pub fn validate(self) -> Result<EmailSettings, ConfigError> {
        let tls = match self.tls.trim() {
            "none" => TlsMode::None,
            "starttls" => TlsMode::StartTls,
            "tls" => TlsMode::Tls,
            other => {
                return Err(invalid(
                    "email.tls",
                    format!("{other:?} must be none, starttls or tls"),
                ));
            }
        };
        let password = secret("email.password", self.password, self.password_file)?;
        let credentials = match (non_empty(&self.username), password) {
            (Some(user), Some(password)) => Some((user, password)),
            (None, None) => None,
            _ => {
                return Err(invalid(
                    "email.username",
                    "username and password go together",
                ));
            }
        };
        let from = mailbox("email.from", &self.from)?;
        let host_address = mailbox("email.host_address", &self.host_address)?;
        let smtp = match non_empty(&self.smtp_host) {
            None => None,
            Some(host) => {
                if host.contains(['/', ':', ' ']) {
                    return Err(invalid(
                        "email.smtp_host",
                        format!("{host:?} must be a host name or address, without port or scheme"),
                    ));
                }
                if self.smtp_port == 0 {
                    return Err(invalid("email.smtp_port", "must not be 0"));
                }
                let from = from
                    .ok_or_else(|| invalid("email.from", "must be set when email.smtp_host is"))?;
                Some(SmtpSettings {
                    host,
                    port: self.smtp_port,
                    tls,
                    credentials,
                    from,
                })
            }
        };
        if !(1..=50).contains(&self.max_attempts) {
            return Err(invalid("email.max_attempts", "must be between 1 and 50"));
        }
        let (ms, s) = (Duration::from_millis, Duration::from_secs);
        Ok(EmailSettings {
            smtp,
            host_address,
            timeout: bounded("email.timeout", &self.timeout, ms(100), s(300))?,
            retry_base: bounded("email.retry_base", &self.retry_base, ms(1), s(3_600))?,
            retry_cap: bounded("email.retry_cap", &self.retry_cap, ms(1), s(86_400))?,
            max_attempts: self.max_attempts,
            outbox_sweep: bounded("email.outbox_sweep", &self.outbox_sweep, ms(20), s(3_600))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_off_by_default_and_needs_a_sender_when_on() {
        let off = EmailSection::default().validate().unwrap();
        assert!(off.smtp.is_none() && off.host_address.is_none());
        let mut on = EmailSection {
            smtp_host: "smtp.example.com".into(),
            ..EmailSection::default()
        };
        let e = on.clone().validate().unwrap_err().to_string();
        assert!(e.contains("email.from"), "{e}");
        on.from = "Cabañas <reservas@example.com>".into();
        let smtp = on.clone().validate().unwrap().smtp.unwrap();
        assert_eq!((smtp.port, smtp.tls), (587, TlsMode::StartTls));
        on.tls = "ssl".into();
        assert!(on.validate().unwrap_err().to_string().contains("email.tls"));
        let bad = EmailSection {
            host_address: "not an address".into(),
            ..EmailSection::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("email.host_address")
        );
    }
}
