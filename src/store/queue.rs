//! What the email and WhatsApp outboxes share: a table of message records by id, each with its
//! delivery attempts, read and updated the same way. Each channel keeps its own table, record
//! type and JSON shape. The tables keep every message ever sent (the host lists them), so the
//! senders' passes read from a low-water mark ([`Mark`]) instead of from the first message, and
//! how many wait is a count kept in `meta` beside each change, not a reading of them all.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use jiff::Timestamp;
use redb::{ReadTransaction, ReadableTable, TableDefinition, TableHandle, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::tables::{EMAIL_OUTBOX, META, WA_OUTBOX, encode};
use super::unreadable::{Unreadable, decode_at};
use super::{Store, StoreError};
use crate::domain::messages::{EmailMessage, OutboundMessage};

/// A channel's outbox table: message id → record.
pub(super) type Queue = &'static TableDefinition<'static, u64, &'static [u8]>;

/// The id below which every message of a queue is sent or failed for good. A message is
/// pending only from its creation (ids only grow) until it is sent or given up, never again, so
/// a pass that saw the first pending id (or none up to the end) may start the next pass there.
/// Kept in memory: after a start the first pass reads the whole table once. A pass on an older
/// snapshot can only move the mark back (more reading), never past a pending message.
#[derive(Clone, Default)]
pub struct Mark(Arc<AtomicU64>);

impl Mark {
    fn from(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn set(&self, id: u64) {
        self.0.store(id, Ordering::Relaxed);
    }
}

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

/// The `meta` key counting the pending messages of `queue`.
fn pending_key(queue: Queue) -> String {
    format!("{}_pending", queue.name())
}

/// Adds `delta` to the count kept in `meta` under `key` (never below zero).
fn add_to_count(txn: &WriteTransaction, key: &str, delta: i64) -> Result<(), StoreError> {
    let mut meta = txn.open_table(META)?;
    let n = meta.get(key)?.map_or(0, |v| v.value());
    meta.insert(key, n.saturating_add_signed(delta))?;
    Ok(())
}

/// Adds `delta` to the pending count of `queue`.
fn count_pending(txn: &WriteTransaction, queue: Queue, delta: i64) -> Result<(), StoreError> {
    add_to_count(txn, &pending_key(queue), delta)
}

/// Stores the new message `record` as `id` of `queue`, counted while it is pending.
pub(super) fn insert<T: Queued>(
    txn: &WriteTransaction,
    queue: Queue,
    id: u64,
    record: &T,
) -> Result<(), StoreError> {
    txn.open_table(*queue)?
        .insert(id, encode(record).as_slice())?;
    if record.is_pending() {
        count_pending(txn, queue, 1)?;
    }
    Ok(())
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
        let was_pending = m.is_pending();
        change(&mut m);
        table.insert(id, encode(&m).as_slice())?;
        drop(table);
        if was_pending != m.is_pending() {
            count_pending(txn, queue, if was_pending { -1 } else { 1 })?;
        }
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

/// Up to `limit` readable pending messages of `queue` due at `now`, oldest first, read from
/// `mark` on (which moves up to the first pending message seen).
pub(super) fn due<T: Queued>(
    txn: &ReadTransaction,
    (queue, unreadable): (Queue, &Unreadable),
    mark: &Mark,
    now: Timestamp,
    limit: usize,
) -> Result<Vec<T>, StoreError> {
    let table = txn.open_table(*queue)?;
    let mut out = Vec::new();
    let mut first_pending = None;
    let mut end = None;
    for entry in table.range(mark.from()..)? {
        let (k, v) = entry?;
        let id = k.value();
        end = Some(id + 1);
        let Some(m) = unreadable.skip::<T>(decode_at(queue, id, v.value()))? else {
            continue;
        };
        if !m.is_pending() {
            continue;
        }
        first_pending.get_or_insert(id);
        if m.next_attempt_at() <= now {
            out.push(m);
            if out.len() == limit {
                break;
            }
        }
    }
    if let Some(id) = first_pending.or(end) {
        mark.set(id);
    }
    Ok(out)
}

/// How many messages of `queue` wait to be sent (the count in `meta`; a store that has none yet
/// is read whole), and the creation time of the oldest: the first pending one from `mark` on,
/// as ids follow creation.
pub(super) fn backlog<T: Queued>(
    txn: &ReadTransaction,
    (queue, unreadable): (Queue, &Unreadable),
    mark: &Mark,
) -> Result<(u64, Option<Timestamp>), StoreError> {
    let key = pending_key(queue);
    let Some(pending) = txn.open_table(META)?.get(key.as_str())?.map(|v| v.value()) else {
        return read_pending::<T>(txn, (queue, unreadable));
    };
    let table = txn.open_table(*queue)?;
    let mut end = None;
    for entry in table.range(mark.from()..)? {
        let (k, v) = entry?;
        let id = k.value();
        end = Some(id + 1);
        if let Some(m) = unreadable.skip::<T>(decode_at(queue, id, v.value()))?
            && m.is_pending()
        {
            mark.set(id);
            return Ok((pending, Some(m.created_at())));
        }
    }
    if let Some(id) = end {
        mark.set(id);
    }
    Ok((pending, None))
}

/// Every readable pending message of `queue` counted, with the creation time of the oldest.
fn read_pending<T: Queued>(
    txn: &ReadTransaction,
    (queue, unreadable): (Queue, &Unreadable),
) -> Result<(u64, Option<Timestamp>), StoreError> {
    let (mut pending, mut oldest) = (0, None);
    for entry in txn.open_table(*queue)?.iter()? {
        let (k, v) = entry?;
        if let Some(m) = unreadable.skip::<T>(decode_at(queue, k.value(), v.value()))?
            && m.is_pending()
        {
            pending += 1;
            let at = m.created_at();
            oldest = Some(oldest.map_or(at, |o: Timestamp| o.min(at)));
        }
    }
    Ok((pending, oldest))
}

/// How far the pending count of a queue was from its messages in one snapshot.
pub struct CountDrift {
    key: String,
    delta: i64,
}

/// The drift of `queue`'s pending count, if any: the messages counted and the count kept, read
/// in one snapshot. A count drifts only when something else wrote the store (an older version
/// that kept none, after a rollback) or a pending record stopped decoding.
pub(super) fn drift<T: Queued>(
    txn: &ReadTransaction,
    queue: (Queue, &Unreadable),
) -> Result<Option<CountDrift>, StoreError> {
    let key = pending_key(queue.0);
    let kept = txn.open_table(META)?.get(key.as_str())?.map(|v| v.value());
    let (counted, _) = read_pending::<T>(txn, queue)?;
    Ok((kept != Some(counted)).then(|| CountDrift {
        key,
        delta: counted as i64 - kept.unwrap_or(0) as i64,
    }))
}

impl Store {
    /// How far the pending counts of the WhatsApp and email outboxes are from their messages,
    /// each read in one snapshot (every message of both outboxes is read: run it in the
    /// background).
    pub fn outbox_count_drift(&self) -> Result<Vec<CountDrift>, StoreError> {
        self.read(|txn| {
            let whatsapp = drift::<OutboundMessage>(txn, (&WA_OUTBOX, &self.unreadable))?;
            let email = drift::<EmailMessage>(txn, (&EMAIL_OUTBOX, &self.unreadable))?;
            Ok(whatsapp.into_iter().chain(email).collect())
        })
    }

    /// Corrects the pending counts by `drifts`. Changes committed since the snapshot a drift
    /// was read in moved its count as much as the messages, so adding the difference makes it
    /// exact.
    pub async fn correct_outbox_counts(&self, drifts: Vec<CountDrift>) -> Result<(), StoreError> {
        for d in drifts.iter().filter(|d| d.delta != 0) {
            tracing::info!(
                count = d.key,
                by = d.delta,
                "outbox pending count corrected"
            );
        }
        self.writer
            .write(move |txn| {
                drifts
                    .iter()
                    .try_for_each(|d| add_to_count(txn, &d.key, d.delta))
            })
            .await
    }
}
