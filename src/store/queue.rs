//! What the email and WhatsApp outboxes share: a table of message records by id, each with its
//! delivery attempts, read and updated the same way. Each channel keeps its own table, record
//! type and JSON shape.

use jiff::Timestamp;
use redb::{ReadTransaction, ReadableTable, TableDefinition, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;
use super::tables::{META, encode};
use super::unreadable::{Unreadable, decode_at};

/// A channel's outbox table: message id → record.
pub(super) type Queue = &'static TableDefinition<'static, u64, &'static [u8]>;

/// A record in a channel's outbox, as the shared delivery bookkeeping sees it.
pub(super) trait Queued: Serialize + DeserializeOwned {
    /// Whether it still waits to be sent.
    fn is_pending(&self) -> bool;
    /// When it was queued.
    fn created_at(&self) -> Timestamp;
    /// When it is to be tried next.
    fn next_attempt_at(&self) -> Timestamp;
    /// Counts one more attempt and keeps its error (`None`: it went through).
    fn attempted(&mut self, error: Option<String>);
    /// Sets when it is to be tried again.
    fn retry_at(&mut self, at: Timestamp);
    /// Marks it failed for good.
    fn give_up(&mut self);
}

/// Takes the next number of the counter `key` in `meta` (the first is 1).
pub(super) fn next_id(txn: &WriteTransaction, key: &str) -> Result<u64, StoreError> {
    let mut meta = txn.open_table(META)?;
    let id = meta.get(key)?.map_or(1, |v| v.value());
    meta.insert(key, id + 1)?;
    Ok(id)
}

/// Applies `change` to message `id` of `queue`, if it is there and readable (one that is not
/// is noted and left as it is).
pub(super) fn update<T: Queued>(
    txn: &WriteTransaction,
    (queue, unreadable): (Queue, &Unreadable),
    id: u64,
    change: impl FnOnce(&mut T),
) -> Result<(), StoreError> {
    let mut table = txn.open_table(*queue)?;
    let found = table
        .get(id)?
        .map(|v| decode_at::<_, T>(queue, id, v.value()));
    if let Some(mut m) = unreadable.skip(found.transpose())?.flatten() {
        change(&mut m);
        table.insert(id, encode(&m).as_slice())?;
    }
    Ok(())
}

/// Notes a failed attempt at message `id`: tried again at `retry_at`, or failed for good
/// without one.
pub(super) fn failed<T: Queued>(
    txn: &WriteTransaction,
    queue: (Queue, &Unreadable),
    id: u64,
    error: String,
    retry_at: Option<Timestamp>,
) -> Result<(), StoreError> {
    update(txn, queue, id, |m: &mut T| {
        m.attempted(Some(error));
        match retry_at {
            Some(at) => m.retry_at(at),
            None => m.give_up(),
        }
    })
}

/// Every readable message of `queue`, oldest first.
pub(super) fn all<T: Queued>(
    txn: &ReadTransaction,
    (queue, unreadable): (Queue, &Unreadable),
) -> Result<Vec<T>, StoreError> {
    let table = txn.open_table(*queue)?;
    let mut out = Vec::new();
    for entry in table.iter()? {
        let (k, v) = entry?;
        out.extend(unreadable.skip(decode_at(queue, k.value(), v.value()))?);
    }
    Ok(out)
}

/// Up to `limit` readable pending messages of `queue` due at `now`, oldest first.
pub(super) fn due<T: Queued>(
    txn: &ReadTransaction,
    (queue, unreadable): (Queue, &Unreadable),
    now: Timestamp,
    limit: usize,
) -> Result<Vec<T>, StoreError> {
    let table = txn.open_table(*queue)?;
    let mut out = Vec::new();
    for entry in table.iter()? {
        if out.len() == limit {
            break;
        }
        let (k, v) = entry?;
        if let Some(m) = unreadable.skip::<T>(decode_at(queue, k.value(), v.value()))?
            && m.is_pending()
            && m.next_attempt_at() <= now
        {
            out.push(m);
        }
    }
    Ok(out)
}

/// How many readable messages of `queue` wait to be sent, and the creation time of the oldest.
pub(super) fn backlog<T: Queued>(
    txn: &ReadTransaction,
    queue: (Queue, &Unreadable),
) -> Result<(u64, Option<Timestamp>), StoreError> {
    let pending: Vec<T> = all::<T>(txn, queue)?
        .into_iter()
        .filter(T::is_pending)
        .collect();
    Ok((
        pending.len() as u64,
        pending.iter().map(T::created_at).min(),
    ))
}
