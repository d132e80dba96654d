//! The email channel: host notices (to `email.host_address`) and guest confirmations (to the
//! address the guest gave) made from the domain event log, delivered over SMTP through a
//! durable outbox with retries and jittered backoff. Off while `email.smtp_host` is empty.

mod texts;

use std::sync::Arc;

use jiff::Timestamp;
use tokio::task::JoinHandle;

use crate::app::notices::{self, Notice};
use crate::config::Settings;
use crate::domain::events::{Audience, DomainEvent};
use crate::domain::messages::{EmailMessage, NewEmail};
use crate::integrations::outbound::retry_at;
use crate::integrations::smtp::{Smtp, SmtpError};
use crate::store::{Store, StoreError};

/// Emails sent per sweep.
const BATCH: usize = 20;

/// Why the channel cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Smtp(#[from] SmtpError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The email channel's worker state.
pub struct Email {
    store: Store,
    settings: Arc<Settings>,
    smtp: Smtp,
}

impl Email {
    /// Starts the channel when SMTP is configured: the event cursor is set before this
    /// returns (so no event recorded after the start is missed), then a worker makes and
    /// sends emails every `email.outbox_sweep`.
    pub async fn start(
        store: Store,
        settings: Arc<Settings>,
    ) -> Result<Option<JoinHandle<()>>, StartError> {
        metrics::counter!("outbox_delivery_failures_total", "channel" => "email").increment(0);
        let Some(smtp) = Smtp::new(&settings.email)? else {
            return Ok(None);
        };
        for result in ["sent", "retry", "failed"] {
            metrics::counter!("email_messages_sent_total", "kind" => "host", "result" => result)
                .increment(0);
        }
        store.start_email_cursor().await?;
        let this = Email {
            store,
            settings,
            smtp,
        };
        Ok(Some(tokio::spawn(async move {
            loop {
                for (what, result) in [
                    ("events", this.make_emails().await),
                    ("outbox", this.send_due().await),
                ] {
                    if let Err(e) = result {
                        tracing::error!(error = %e, what, "email worker step failed");
                    }
                }
                if let Ok((pending, _)) = this.store.email_backlog() {
                    metrics::gauge!("outbox_pending", "channel" => "email").set(pending as f64);
                }
                tokio::time::sleep(this.settings.email.outbox_sweep).await;
            }
        })))
    }

    /// Turns the events recorded since the last sweep into emails, a page at a time, each
    /// page in the commit that moves the cursor past it, up to the newest event when the pass
    /// began.
    async fn make_emails(&self) -> Result<(), StoreError> {
        let mut end = None;
        loop {
            let page = self.store.email_events()?;
            let Some(through) = page.through else {
                return Ok(());
            };
            let end = *end.get_or_insert(page.newest);
            let mut emails = Vec::new();
            for (_, event) in &page.events {
                emails.extend(self.email_for(event)?);
            }
            self.store.emails_made(through, emails).await?;
            if !page.more || through >= end {
                return Ok(());
            }
        }
    }

    fn email_for(&self, event: &DomainEvent) -> Result<Option<NewEmail>, StoreError> {
        let Notice { reservation, vars } = notices::describe(&self.store, &self.settings, event)?;
        let (to, kind) = match event.audience {
            Audience::Host => (self.settings.email.host_address.clone(), "host"),
            Audience::Guest => (
                reservation.and_then(|r| r.contact.email().map(str::to_owned)),
                "guest",
            ),
        };
        let Some(to) = to else {
            return Ok(None);
        };
        Ok(
            texts::render(texts::key(event.audience, event.kind), &vars).map(|(subject, body)| {
                NewEmail {
                    to,
                    kind: kind.into(),
                    subject,
                    body,
                }
            }),
        )
    }

    /// Sends every due email once; failures wait with jittered backoff (4xx, network, TLS)
    /// or fail for good (5xx, or after `email.max_attempts`).
    async fn send_due(&self) -> Result<(), StoreError> {
        for m in self.store.due_emails(Timestamp::now(), BATCH)? {
            let smtp = self.smtp.clone();
            let (id, e) = (
                format!("{}.{}", m.created_at.as_millisecond(), m.id),
                m.email.clone(),
            );
            let sent =
                tokio::task::spawn_blocking(move || smtp.send(&id, &e.to, &e.subject, &e.body))
                    .await
                    .unwrap_or_else(|_| Err(SmtpError::Unavailable("the send panicked".into())));
            self.record_send(m, sent).await?;
        }
        Ok(())
    }

    async fn record_send(
        &self,
        m: EmailMessage,
        sent: Result<(), SmtpError>,
    ) -> Result<(), StoreError> {
        let kind = m.email.kind.clone();
        let cfg = &self.settings.email;
        let Err(e) = sent else {
            metrics::counter!("email_messages_sent_total", "kind" => kind, "result" => "sent")
                .increment(1);
            return self.store.email_sent(m.id).await;
        };
        metrics::counter!("outbox_delivery_failures_total", "channel" => "email").increment(1);
        let retry = match &e {
            SmtpError::Unavailable(_) => retry_at(
                m.attempts + 1,
                cfg.max_attempts,
                cfg.retry_base,
                cfg.retry_cap,
                None,
                Timestamp::now(),
            ),
            SmtpError::Refused(_) | SmtpError::Settings(_) => None,
        };
        let result = if retry.is_some() { "retry" } else { "failed" };
        metrics::counter!("email_messages_sent_total", "kind" => kind, "result" => result)
            .increment(1);
        tracing::warn!(email = m.id, error = %e, result, "email send failed");
        self.store.email_failed(m.id, e.to_string(), retry).await
    }
}
