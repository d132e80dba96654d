//! The copy behind a snapshot: every table the store knows, from one read transaction into
//! the snapshot's write transaction.

use redb::{
    Key, MultimapTableHandle, ReadTransaction, ReadableTable, TableDefinition, TableHandle, Value,
    WriteTransaction,
};

use super::BackupError;
use crate::store::{StoreError, tables};

fn copy_table<K: Key + 'static, V: Value + 'static>(
    src: &ReadTransaction,
    dst: &WriteTransaction,
    def: TableDefinition<K, V>,
) -> Result<u64, StoreError> {
    let from = src.open_table(def)?;
    let mut to = dst.open_table(def)?;
    let mut n = 0;
    for entry in from.iter()? {
        let (k, v) = entry?;
        to.insert(k.value(), v.value())?;
        n += 1;
    }
    Ok(n)
}

/// Copies every table of `src` into `dst`; returns the number of reservations copied. Fails on
/// a table it does not know, so a table added later cannot be silently left out.
pub(super) fn copy_all(src: &ReadTransaction, dst: &WriteTransaction) -> Result<u64, BackupError> {
    let known = [
        tables::META.name(),
        tables::ACCOMMODATIONS.name(),
        tables::RESERVATIONS.name(),
        tables::BLOCKS.name(),
        tables::OCCUPANCY.name(),
        tables::HOLD_EXPIRY.name(),
        tables::IDEMPOTENCY.name(),
        tables::ADMINS.name(),
        tables::SESSIONS.name(),
        tables::PAYMENTS.name(),
        tables::RESERVATION_PAYMENTS.name(),
        tables::WEBHOOK_INBOX.name(),
        tables::OUTBOX.name(),
        tables::FEEDS.name(),
        tables::IMPORTED.name(),
        tables::FEED_UIDS.name(),
        tables::ICAL_EXPORTS.name(),
        tables::CALENDAR_CHANGED.name(),
        tables::WA_SEEN.name(),
        tables::WA_INBOX.name(),
        tables::WA_OUTBOX.name(),
        tables::WA_WAMID.name(),
        tables::CONVERSATIONS.name(),
        tables::WA_THREAD.name(),
        tables::EMAIL_OUTBOX.name(),
        tables::SITE_CONTENT.name(),
        tables::ACCOMMODATION_CONTENT.name(),
        tables::MEDIA.name(),
        tables::TLS.name(),
        tables::LEGACY_HOLD_CLIENTS.name(),
        tables::LEGACY_GUEST_HOLDS.name(),
        tables::SECRETS.name(),
    ];
    for handle in src.list_tables().map_err(StoreError::from)? {
        if !known.contains(&handle.name()) {
            return Err(BackupError::UnknownTable(handle.name().to_owned()));
        }
    }
    if let Some(multimap) = src.list_multimap_tables().map_err(StoreError::from)?.next() {
        return Err(BackupError::UnknownTable(multimap.name().to_owned()));
    }
    copy_table(src, dst, tables::META)?;
    copy_table(src, dst, tables::ACCOMMODATIONS)?;
    let reservations = copy_table(src, dst, tables::RESERVATIONS)?;
    copy_table(src, dst, tables::BLOCKS)?;
    copy_table(src, dst, tables::OCCUPANCY)?;
    copy_table(src, dst, tables::HOLD_EXPIRY)?;
    copy_table(src, dst, tables::IDEMPOTENCY)?;
    copy_table(src, dst, tables::ADMINS)?;
    copy_table(src, dst, tables::SESSIONS)?;
    copy_table(src, dst, tables::PAYMENTS)?;
    copy_table(src, dst, tables::RESERVATION_PAYMENTS)?;
    copy_table(src, dst, tables::WEBHOOK_INBOX)?;
    copy_table(src, dst, tables::OUTBOX)?;
    copy_table(src, dst, tables::FEEDS)?;
    copy_table(src, dst, tables::IMPORTED)?;
    copy_table(src, dst, tables::FEED_UIDS)?;
    copy_table(src, dst, tables::ICAL_EXPORTS)?;
    copy_table(src, dst, tables::CALENDAR_CHANGED)?;
    copy_table(src, dst, tables::WA_SEEN)?;
    copy_table(src, dst, tables::WA_INBOX)?;
    copy_table(src, dst, tables::WA_OUTBOX)?;
    copy_table(src, dst, tables::WA_WAMID)?;
    copy_table(src, dst, tables::CONVERSATIONS)?;
    copy_table(src, dst, tables::WA_THREAD)?;
    copy_table(src, dst, tables::EMAIL_OUTBOX)?;
    copy_table(src, dst, tables::SITE_CONTENT)?;
    copy_table(src, dst, tables::ACCOMMODATION_CONTENT)?;
    copy_table(src, dst, tables::MEDIA)?;
    copy_table(src, dst, tables::TLS)?;
    copy_table(src, dst, tables::SECRETS)?;
    Ok(reservations)
}
