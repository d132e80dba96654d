//! The event log ("outbox"): domain events for guests and the host, written in the same
//! transaction as the change they report, read by each messaging channel with its own cursor.

use redb::{ReadTransaction, WriteTransaction};

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

/// The readable events after sequence number `seq`, oldest first.
fn events_after(
    txn: &ReadTransaction,
    seq: u64,
    unreadable: &Unreadable,
) -> Result<Vec<(u64, DomainEvent)>, StoreError> {
    let table = txn.open_table(OUTBOX)?;
    let mut out = Vec::new();
    for entry in table.range(seq + 1..)? {
        let (k, v) = entry?;
        let decoded = decode_at(&OUTBOX, k.value(), v.value());
        out.extend(unreadable.skip(decoded)?.map(|e| (k.value(), e)));
    }
    Ok(out)
}

/// The readable events after the channel cursor kept in `meta` under `cursor` (all of them
/// without one), oldest first.
pub(super) fn events_after_cursor(
    txn: &ReadTransaction,
    cursor: &str,
    unreadable: &Unreadable,
) -> Result<Vec<(u64, DomainEvent)>, StoreError> {
    let seq = txn.open_table(META)?.get(cursor)?.map_or(0, |v| v.value());
    events_after(txn, seq, unreadable)
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
        self.read(|txn| events_after(txn, 0, &self.unreadable))
    }
}
