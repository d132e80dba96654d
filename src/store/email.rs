//! The email outbox: messages made from domain events in the same commit that moves the email
//! channel's event cursor (so an event becomes its emails exactly once, even across a crash),
//! with their delivery state and retries.

use jiff::Timestamp;
use redb::ReadableTable;

use super::outbox::{EventPage, events_after_cursor};
use super::queue::{self, Queued, next_id};
use super::tables::{EMAIL_OUTBOX, META, OUTBOX};
use super::{Store, StoreError};
use crate::domain::messages::{EmailMessage, EmailStatus, NewEmail};

const NEXT_EMAIL: &str = "next_email_id";
const CURSOR: &str = "email_events_cursor";

impl Queued for EmailMessage {
    fn is_pending(&self) -> bool {
        self.status == EmailStatus::Pending
    }
    fn created_at(&self) -> Timestamp {
        self.created_at
    }
    fn next_attempt_at(&self) -> Timestamp {
        self.next_attempt_at
    }
    fn attempted(&mut self, error: Option<String>) {
        self.attempts += 1;
        self.last_error = error;
    }
    fn retry_at(&mut self, at: Timestamp) {
        self.next_attempt_at = at;
    }
    fn give_up(&mut self) {
        self.status = EmailStatus::Failed;
    }
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

    /// The next page of events the email channel has not turned into emails yet.
    pub fn email_events(&self) -> Result<EventPage, StoreError> {
        self.read(|txn| events_after_cursor(txn, CURSOR, &self.unreadable))
    }

    /// Moves the email cursor to `seq` and queues the emails the events up to it became, in
    /// one commit.
    pub async fn emails_made(&self, seq: u64, emails: Vec<NewEmail>) -> Result<(), StoreError> {
        self.writer
            .write(move |txn| {
                txn.open_table(META)?.insert(CURSOR, seq)?;
                let now = Timestamp::now();
                for email in emails {
                    let id = next_id(txn, NEXT_EMAIL)?;
                    let record = EmailMessage {
                        id,
                        email,
                        status: EmailStatus::Pending,
                        attempts: 0,
                        created_at: now,
                        next_attempt_at: now,
                        last_error: None,
                    };
                    queue::insert(txn, &EMAIL_OUTBOX, id, &record)?;
                }
                Ok(())
            })
            .await
    }

    /// Every email, oldest first.
    pub fn emails(&self) -> Result<Vec<EmailMessage>, StoreError> {
        self.read(|txn| queue::all(txn, (&EMAIL_OUTBOX, &self.unreadable)))
    }

    /// Pending emails due at `now`, oldest first.
    pub fn due_emails(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<EmailMessage>, StoreError> {
        self.read(|txn| {
            queue::due(
                txn,
                (&EMAIL_OUTBOX, &self.unreadable),
                &self.outbox_marks.email,
                now,
                limit,
            )
        })
    }

    /// How many emails wait to be sent, and the creation time of the oldest.
    pub fn email_backlog(&self) -> Result<(u64, Option<Timestamp>), StoreError> {
        self.read(|txn| {
            queue::backlog::<EmailMessage>(
                txn,
                (&EMAIL_OUTBOX, &self.unreadable),
                &self.outbox_marks.email,
            )
        })
    }

    /// Marks email `id` handed to the SMTP server.
    pub async fn email_sent(&self, id: u64) -> Result<(), StoreError> {
        let unreadable = self.unreadable.clone();
        self.writer
            .write(move |txn| {
                let queue = (&EMAIL_OUTBOX, &unreadable);
                queue::update(txn, queue, id, |m: &mut EmailMessage| {
                    m.attempted(None);
                    m.status = EmailStatus::Sent;
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
        let unreadable = self.unreadable.clone();
        self.writer
            .write(move |txn| {
                let queue = (&EMAIL_OUTBOX, &unreadable);
                queue::failed::<EmailMessage>(txn, queue, id, error, retry_at)
            })
            .await
    }
}
