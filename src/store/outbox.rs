//! The outbox: domain events for guests and the host, written in the same transaction as the
//! change they report, delivered later by the messaging issue.

use redb::{ReadableTable, WriteTransaction};

use super::tables::{META, OUTBOX, decode, encode};
use super::{Store, StoreError};
use crate::domain::events::DomainEvent;

const NEXT_KEY: &str = "next_outbox_id";

/// Appends `event` to the outbox.
pub fn push(txn: &WriteTransaction, event: &DomainEvent) -> Result<(), StoreError> {
    let mut meta = txn.open_table(META)?;
    let id = meta.get(NEXT_KEY)?.map_or(1, |v| v.value());
    meta.insert(NEXT_KEY, id + 1)?;
    txn.open_table(OUTBOX)?
        .insert(id, encode(event).as_slice())?;
    Ok(())
}

impl Store {
    /// Every event in the outbox, oldest first, with its sequence number.
    pub fn outbox(&self) -> Result<Vec<(u64, DomainEvent)>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(OUTBOX)?;
            table
                .iter()?
                .map(|e| {
                    let (k, v) = e?;
                    Ok((k.value(), decode(v.value())?))
                })
                .collect()
        })
    }
}
