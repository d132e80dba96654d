//! SMTP client (lettre over rustls, blocking: call it from `spawn_blocking`): one connection
//! and one attempt per message, the email outbox decides about retries.

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};

use crate::config::{EmailSettings, TlsMode};

/// A send that did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmtpError {
    /// A 4xx answer, a network, TLS or timeout error: try again later.
    #[error("the SMTP server is unavailable: {0}")]
    Unavailable(String),
    /// A 5xx answer or an address that does not parse: retrying would not help.
    #[error("the SMTP server refused the message: {0}")]
    Refused(String),
    /// The settings cannot make a client (a sender or TLS host name that does not parse).
    #[error("{0}")]
    Settings(String),
}

/// Keeps only the status code of a server answer: its text may repeat an address.
impl From<lettre::transport::smtp::Error> for SmtpError {
    fn from(e: lettre::transport::smtp::Error) -> Self {
        let text = match e.status() {
            Some(code) => format!("SMTP {code}"),
            None => e.to_string(),
        };
        if e.is_permanent() {
            SmtpError::Refused(text)
        } else {
            SmtpError::Unavailable(text)
        }
    }
}

/// One SMTP server and sender.
#[derive(Clone)]
pub struct Smtp {
    transport: SmtpTransport,
    from: Mailbox,
    /// The domain of `Message-ID`s: the sender's.
    domain: String,
}

impl Smtp {
    /// A client when `email.smtp_host` is set; an error names a host that TLS cannot verify.
    pub fn new(settings: &EmailSettings) -> Result<Option<Smtp>, SmtpError> {
        let Some(smtp) = &settings.smtp else {
            return Ok(None);
        };
        let from: Mailbox = smtp
            .from
            .parse()
            .map_err(|e| SmtpError::Settings(format!("email.from: {e}")))?;
        let tls_for = |host: &str| {
            TlsParameters::new(host.to_owned()).map_err(|e| {
                SmtpError::Settings(format!(
                    "email.smtp_host {host:?} cannot be used for TLS: {e}"
                ))
            })
        };
        let tls = match smtp.tls {
            TlsMode::None => Tls::None,
            TlsMode::StartTls => Tls::Required(tls_for(&smtp.host)?),
            TlsMode::Tls => Tls::Wrapper(tls_for(&smtp.host)?),
        };
        let mut builder = SmtpTransport::builder_dangerous(smtp.host.as_str())
            .port(smtp.port)
            .tls(tls)
            .timeout(Some(settings.timeout));
        if let Some((user, password)) = &smtp.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Some(Smtp {
            transport: builder.build(),
            domain: from.email.domain().to_owned(),
            from,
        }))
    }

    /// Sends a plain-text message; `id` makes its `Message-ID`, the same on every attempt, so
    /// a resend after a crash can be recognised by the receiving side.
    pub fn send(&self, id: &str, to: &str, subject: &str, body: &str) -> Result<(), SmtpError> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| SmtpError::Refused(format!("recipient: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(format!("<{id}@{}>", self.domain)))
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| SmtpError::Refused(e.to_string()))?;
        self.transport.send(&message)?;
        Ok(())
    }
}
