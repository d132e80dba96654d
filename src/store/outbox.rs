//! The event log ("outbox"): domain events for guests and the host, written in the same
//! transaction as the change they report, read by each messaging channel with its own cursor.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use super::idempotency::{self, IdempotencyKey};
use super::queue::next_id;
use super::tables::{META, OUTBOX, encode};
use super::unreadable::{Unreadable, decode_at};
use super::{Store, StoreError};
use crate::domain::events::DomainEvent;

const NEXT_KEY: &str = "next_outbox_id";

/// Appends `event` to the outbox.
pub fn push(txn: &WriteTransaction, event: &DomainEvent) -> Result<(), StoreError> {
    let id = next_id(txn, NEXT_KEY)?;
    txn.open_table(OUTBOX)?
        .insert(id, encode(event).as_slice())?;
    Ok(())
}

/// Events read by a channel in one pass: a page, so a backlog (a burst of holds while the
/// worker was busy) is turned into messages a page at a time instead of read whole. Each page
/// is decoded, rendered and written in one go: at 256 the soak's minute bursts of expired
/// holds (about 2,000 host notices per channel) raised RSS by 3-8 MB for a few seconds.
pub const EVENT_PAGE: usize = 64;

/// One page of the event log after a channel's cursor.
#[derive(Debug, Default)]
pub struct EventPage {
    /// The readable events, oldest first, with their sequence numbers.
    pub events: Vec<(u64, DomainEvent)>,
    /// The last sequence number read, readable or not: where the cursor moves.
    pub through: Option<u64>,
    /// The page is full: more events may follow `through`.
    pub more: bool,
    /// The newest event in the log when the page was read: a pass stops there, so it ends
    /// however fast new events come.
    pub newest: u64,
}

/// Up to [`EVENT_PAGE`] events after the channel cursor kept in `meta` under `cursor` (from
/// the first without one), oldest first; unreadable ones are noted and passed over.
pub(super) fn events_after_cursor(
    txn: &ReadTransaction,
    cursor: &str,
    unreadable: &Unreadable,
) -> Result<EventPage, StoreError> {
    let seq = txn.open_table(META)?.get(cursor)?.map_or(0, |v| v.value());
    let table = txn.open_table(OUTBOX)?;
    let mut page = EventPage::default();
    let mut read = 0;
    for entry in table.range(seq + 1..)?.take(EVENT_PAGE) {
        let (k, v) = entry?;
        let decoded = decode_at(&OUTBOX, k.value(), v.value());
        page.events
            .extend(unreadable.skip(decoded)?.map(|e| (k.value(), e)));
        page.through = Some(k.value());
        read += 1;
    }
    page.more = read == EVENT_PAGE;
    page.newest = table.last()?.map_or(0, |(k, _)| k.value());
    Ok(page)
}

impl Store {
    /// Records `event` once per `key`: a caller that retries after a crash (the same guest
    /// message processed again) records nothing new.
    pub async fn record_event(
        &self,
        event: DomainEvent,
        key: IdempotencyKey,
    ) -> Result<(), StoreError> {
        self.writer
            .write(move |txn| {
                // Only the key's presence matters; what it remembers is never read.
                idempotency::guard(
                    txn,
                    Some(key),
                    |txn| push(txn, &event),
                    |_| Some(serde_json::Value::Null),
                )
                .map(|_| ())
            })
            .await
    }

    /// Every readable event in the outbox, oldest first, with its sequence number.
    pub fn outbox(&self) -> Result<Vec<(u64, DomainEvent)>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(OUTBOX)?;
            let mut out = Vec::new();
            for entry in table.iter()? {
                let (k, v) = entry?;
                let decoded = decode_at(&OUTBOX, k.value(), v.value());
                out.extend(self.unreadable.skip(decoded)?.map(|e| (k.value(), e)));
            }
            Ok(out)
        })
    }
}
