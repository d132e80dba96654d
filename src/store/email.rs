//! The email outbox: messages made from domain events in the same commit that moves the email
//! channel's event cursor (so an event becomes its emails exactly once, even across a crash),
//! with their delivery state and retries.

use jiff::Timestamp;
use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::outbox::events_after;
use super::tables::{EMAIL_OUTBOX, META, OUTBOX, decode, encode};
use super::{Store, StoreError};
use crate::domain::events::DomainEvent;

const NEXT_EMAIL: &str = "next_email_id";
const CURSOR: &str = "email_events_cursor";

/// An email to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEmail {
    /// The recipient's address (a mailbox, `Name <addr>` or `addr`).
    pub to: String,
    /// `host` or `guest`: the metric label.
    pub kind: String,
    pub subject: String,
    pub body: String,
}

/// Where an email stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailStatus {
    Pending,
    Sent,
    Failed,
}

/// An email in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailMessage {
    pub id: u64,
    #[serde(flatten)]
    pub email: NewEmail,
    pub status: EmailStatus,
    pub attempts: u32,
    pub created_at: Timestamp,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
}

fn update(
    txn: &WriteTransaction,
    id: u64,
    change: impl FnOnce(&mut EmailMessage),
) -> Result<(), StoreError> {
    let mut table = txn.open_table(EMAIL_OUTBOX)?;
    let found: Option<EmailMessage> = table.get(id)?.map(|v| decode(v.value())).transpose()?;
    if let Some(mut m) = found {
        change(&mut m);
        table.insert(id, encode(&m).as_slice())?;
    }
    Ok(())
}

impl Store {
    /// Starts the email channel at the newest event when it has no cursor yet, so turning
    /// email on does not mail the past. Returns the cursor.
    pub async fn start_email_cursor(&self) -> Result<u64, StoreError> {
        self.writer
            .write(|txn| {
                let mut meta = txn.open_table(META)?;
                if let Some(seq) = meta.get(CURSOR)?.map(|v| v.value()) {
                    return Ok(seq);
                }
                let newest = txn
                    .open_table(OUTBOX)?
                    .last()?
                    .map_or(0, |(k, _)| k.value());
                meta.insert(CURSOR, newest)?;
                Ok(newest)
            })
            .await
    }

    /// Events the email channel has not turned into emails yet, oldest first.
    pub fn email_events(&self) -> Result<Vec<(u64, DomainEvent)>, StoreError> {
        self.read(|txn| {
            let cursor = txn.open_table(META)?.get(CURSOR)?.map_or(0, |v| v.value());
            events_after(txn, cursor)
        })
    }

    /// Moves the email cursor to `seq` and queues the emails the events up to it became, in
    /// one commit.
    pub async fn emails_made(&self, seq: u64, emails: Vec<NewEmail>) -> Result<(), StoreError> {
        self.writer
            .write(move |txn| {
                let mut meta = txn.open_table(META)?;
                meta.insert(CURSOR, seq)?;
                let now = Timestamp::now();
                for email in emails {
                    let id = meta.get(NEXT_EMAIL)?.map_or(1, |v| v.value());
                    meta.insert(NEXT_EMAIL, id + 1)?;
                    let record = EmailMessage {
                        id,
                        email,
                        status: EmailStatus::Pending,
                        attempts: 0,
                        created_at: now,
                        next_attempt_at: now,
                        last_error: None,
                    };
                    txn.open_table(EMAIL_OUTBOX)?
                        .insert(id, encode(&record).as_slice())?;
                }
                Ok(())
            })
            .await
    }

    /// Every email, oldest first.
    pub fn emails(&self) -> Result<Vec<EmailMessage>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(EMAIL_OUTBOX)?;
            table.iter()?.map(|e| decode(e?.1.value())).collect()
        })
    }

    /// Pending emails due at `now`, oldest first.
    pub fn due_emails(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<EmailMessage>, StoreError> {
        Ok(self
            .emails()?
            .into_iter()
            .filter(|m| m.status == EmailStatus::Pending && m.next_attempt_at <= now)
            .take(limit)
            .collect())
    }

    /// How many emails wait to be sent, and the creation time of the oldest.
    pub fn email_backlog(&self) -> Result<(u64, Option<Timestamp>), StoreError> {
        let pending: Vec<EmailMessage> = self
            .emails()?
            .into_iter()
            .filter(|m| m.status == EmailStatus::Pending)
            .collect();
        Ok((
            pending.len() as u64,
            pending.iter().map(|m| m.created_at).min(),
        ))
    }

    /// Marks email `id` handed to the SMTP server.
    pub async fn email_sent(&self, id: u64) -> Result<(), StoreError> {
        self.writer
            .write(move |txn| {
                update(txn, id, |m| {
                    m.attempts += 1;
                    m.status = EmailStatus::Sent;
                    m.last_error = None;
                })
            })
            .await
    }

    /// Notes a failed attempt: tried again at `retry_at`, or failed for good without one.
    pub async fn email_failed(
        &self,
        id: u64,
        error: String,
        retry_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        self.writer
            .write(move |txn| {
                update(txn, id, |m| {
                    m.attempts += 1;
                    m.last_error = Some(error);
                    match retry_at {
                        Some(at) => m.next_attempt_at = at,
                        None => m.status = EmailStatus::Failed,
                    }
                })
            })
            .await
    }
}
