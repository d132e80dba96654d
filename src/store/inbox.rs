//! The webhook inbox: a notification is recorded here (durably) before the webhook answers,
//! and leaves only once the payment it names has been fetched and applied.

use jiff::Timestamp;
use redb::{ReadableTable, ReadableTableMetadata};
use serde::{Deserialize, Serialize};

use super::tables::{WEBHOOK_INBOX, encode};
use super::unreadable::{Unreadable, decode_at};
use super::{Store, StoreError};

/// Notifications about one payment waiting to be processed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxEntry {
    pub payment_id: String,
    pub received_at: Timestamp,
    /// Notifications received for this payment since it was last processed.
    pub notifications: u64,
    /// Failed processing attempts.
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
}

/// The entry of `payment_id`; one that does not decode is noted and treated as absent (it
/// only says that the payment needs a look, which a new notification says again).
fn entry(
    table: &redb::Table<&str, &[u8]>,
    payment_id: &str,
    unreadable: &Unreadable,
) -> Result<Option<InboxEntry>, StoreError> {
    let found = table
        .get(payment_id)?
        .map(|v| decode_at(&WEBHOOK_INBOX, payment_id, v.value()));
    Ok(unreadable.skip(found.transpose())?.flatten())
}

impl Store {
    /// Records a notification for `payment_id` (merged with one still waiting).
    pub async fn record_notification(&self, payment_id: String) -> Result<(), StoreError> {
        let unreadable = self.unreadable.clone();
        self.writer
            .write(move |txn| {
                let now = Timestamp::now();
                let mut table = txn.open_table(WEBHOOK_INBOX)?;
                let entry = match entry(&table, &payment_id, &unreadable)? {
                    Some(mut e) => {
                        e.notifications += 1;
                        e.next_attempt_at = now;
                        e
                    }
                    None => InboxEntry {
                        payment_id: payment_id.clone(),
                        received_at: now,
                        notifications: 1,
                        attempts: 0,
                        next_attempt_at: now,
                        last_error: None,
                    },
                };
                table.insert(payment_id.as_str(), encode(&entry).as_slice())?;
                Ok(())
            })
            .await
    }

    /// Entries due for processing at `now`, oldest first, at most `limit`.
    pub fn due_notifications(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<InboxEntry>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(WEBHOOK_INBOX)?;
            let mut due = Vec::new();
            for entry in table.iter()? {
                let (k, v) = entry?;
                let decoded = decode_at(&WEBHOOK_INBOX, k.value(), v.value());
                if let Some(e) = self.unreadable.skip::<InboxEntry>(decoded)?
                    && e.next_attempt_at <= now
                {
                    due.push(e);
                }
            }
            due.sort_by_key(|e| e.received_at);
            due.truncate(limit);
            Ok(due)
        })
    }

    /// Notes a failed attempt; the entry is tried again at `retry_at`.
    pub async fn notification_failed(
        &self,
        payment_id: String,
        error: String,
        retry_at: Timestamp,
    ) -> Result<(), StoreError> {
        let unreadable = self.unreadable.clone();
        self.writer
            .write(move |txn| {
                let mut table = txn.open_table(WEBHOOK_INBOX)?;
                if let Some(mut e) = entry(&table, &payment_id, &unreadable)? {
                    e.attempts += 1;
                    e.last_error = Some(error);
                    e.next_attempt_at = retry_at;
                    table.insert(payment_id.as_str(), encode(&e).as_slice())?;
                }
                Ok(())
            })
            .await
    }

    /// Removes the entry of `payment_id` unless notifications arrived after `seen` were
    /// counted (those still need a fresh look at the payment).
    pub async fn finish_notification(
        &self,
        payment_id: String,
        seen: u64,
    ) -> Result<(), StoreError> {
        let unreadable = self.unreadable.clone();
        self.writer
            .write(move |txn| {
                let mut table = txn.open_table(WEBHOOK_INBOX)?;
                if let Some(mut e) = entry(&table, &payment_id, &unreadable)? {
                    if e.notifications <= seen {
                        table.remove(payment_id.as_str())?;
                    } else {
                        e.notifications -= seen;
                        table.insert(payment_id.as_str(), encode(&e).as_slice())?;
                    }
                }
                Ok(())
            })
            .await
    }

    /// How many notifications wait in the inbox.
    pub fn inbox_len(&self) -> Result<u64, StoreError> {
        self.read(|txn| Ok(txn.open_table(WEBHOOK_INBOX)?.len()?))
    }
}
