//! The copy behind a snapshot: every table the store knows, from one read transaction into
//! the snapshot's file, committed a chunk at a time. The source is one MVCC view however many
//! commits the copy takes; the file is only renamed into place once the last one is durable.

use redb::{
    Database, Durability, Key, MultimapTableHandle, ReadTransaction, ReadableTable,
    TableDefinition, TableHandle, Value, WriteTransaction,
};

use super::BackupError;
use crate::store::{StoreError, tables};

/// Bytes of keys and values copied per commit of the snapshot. One transaction for the whole
/// copy kept redb's bookkeeping of every page it wrote (and the allocator's memory with it)
/// until the end: a store of 1 GB meant megabytes held for the copy's duration, and one fsync
/// of the whole file competing with the live store's commits at the end. A chunk's pages stay
/// in memory until its commit: with 4 MiB chunks each backup of the soak's store raised RSS by
/// 2.5-3.5 MiB for its duration, with 1 MiB by 1-2.4 (docs/reliability.md, runs 18 and 19).
const CHUNK_BYTES: usize = 1 << 20;

/// The snapshot file being written: its open write transaction and how much it holds.
struct Chunked<'a> {
    db: &'a Database,
    txn: WriteTransaction,
    bytes: usize,
    limit: usize,
    commits: usize,
}

impl<'a> Chunked<'a> {
    fn begin(db: &'a Database, limit: usize) -> Result<Self, StoreError> {
        Ok(Chunked {
            db,
            txn: Self::durable_txn(db)?,
            bytes: 0,
            limit,
            commits: 0,
        })
    }

    fn durable_txn(db: &Database) -> Result<WriteTransaction, StoreError> {
        let mut txn = db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        Ok(txn)
    }

    /// Commits the open transaction (durably) and begins the next one (redb has one writer at
    /// a time, so the next can only begin once this one is committed).
    fn next_chunk(self) -> Result<Self, StoreError> {
        let Chunked {
            db,
            txn,
            limit,
            commits,
            ..
        } = self;
        txn.commit()?;
        Ok(Chunked {
            db,
            txn: Self::durable_txn(db)?,
            bytes: 0,
            limit,
            commits: commits + 1,
        })
    }

    /// Copies one table; returns the writer to go on with and the entries copied.
    fn copy_table<K: Key + 'static, V: Value + 'static>(
        mut self,
        src: &ReadTransaction,
        def: TableDefinition<K, V>,
    ) -> Result<(Self, u64), StoreError> {
        let from = src.open_table(def)?;
        let mut entries = from.iter()?.peekable();
        let mut n = 0;
        loop {
            let mut done = false;
            {
                let mut to = self.txn.open_table(def)?;
                while self.bytes < self.limit {
                    let Some(entry) = entries.next() else {
                        done = true;
                        break;
                    };
                    let (k, v) = entry?;
                    let (k, v) = (k.value(), v.value());
                    self.bytes += K::as_bytes(&k).as_ref().len() + V::as_bytes(&v).as_ref().len();
                    to.insert(k, v)?;
                    n += 1;
                }
            }
            if done || entries.peek().is_none() {
                return Ok((self, n));
            }
            self = self.next_chunk()?;
        }
    }

    /// Adds the archived reservations the snapshot does not have yet (the live record wins);
    /// returns the writer and how many were added.
    fn merge_archived(mut self, archived: &ReadTransaction) -> Result<(Self, u64), StoreError> {
        let from = archived.open_table(crate::store::archive::ARCHIVED)?;
        let mut entries = from.iter()?.peekable();
        let mut n = 0;
        while entries.peek().is_some() {
            {
                let mut to = self.txn.open_table(tables::RESERVATIONS)?;
                while self.bytes < self.limit {
                    let Some(entry) = entries.next() else {
                        break;
                    };
                    let (k, v) = entry?;
                    if to.get(k.value())?.is_none() {
                        self.bytes += k.value().len() + v.value().len();
                        to.insert(k.value(), v.value())?;
                        n += 1;
                    }
                }
            }
            if entries.peek().is_some() {
                self = self.next_chunk()?;
            }
        }
        Ok((self, n))
    }

    /// Commits the last chunk; returns how many commits the copy took.
    fn finish(self) -> Result<usize, StoreError> {
        self.txn.commit()?;
        Ok(self.commits + 1)
    }
}

/// Copies every table of `src` into `dst` (a new, empty file), each commit durable; returns the
/// number of reservations copied. Fails on a table it does not know, so a table added later
/// cannot be silently left out. The reservations of `archived` that `src` does not have join
/// the snapshot's reservations, so a snapshot is one whole store.
pub(super) fn copy_all(
    src: &ReadTransaction,
    archived: Option<&ReadTransaction>,
    dst: &Database,
) -> Result<u64, BackupError> {
    copy_in_chunks((src, archived), dst, CHUNK_BYTES).map(|(reservations, _commits)| reservations)
}

/// [`copy_all`] committing every `limit` bytes; returns the reservations and the commits.
fn copy_in_chunks(
    (src, archived): (&ReadTransaction, Option<&ReadTransaction>),
    dst: &Database,
    limit: usize,
) -> Result<(u64, usize), BackupError> {
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
    let out = Chunked::begin(dst, limit)?;
    let (out, _) = out.copy_table(src, tables::META)?;
    let (out, _) = out.copy_table(src, tables::ACCOMMODATIONS)?;
    let (out, live) = out.copy_table(src, tables::RESERVATIONS)?;
    let (out, old) = match archived {
        Some(archived) => out.merge_archived(archived)?,
        None => (out, 0),
    };
    let reservations = live + old;
    let (out, _) = out.copy_table(src, tables::BLOCKS)?;
    let (out, _) = out.copy_table(src, tables::OCCUPANCY)?;
    let (out, _) = out.copy_table(src, tables::HOLD_EXPIRY)?;
    let (out, _) = out.copy_table(src, tables::IDEMPOTENCY)?;
    let (out, _) = out.copy_table(src, tables::ADMINS)?;
    let (out, _) = out.copy_table(src, tables::SESSIONS)?;
    let (out, _) = out.copy_table(src, tables::PAYMENTS)?;
    let (out, _) = out.copy_table(src, tables::RESERVATION_PAYMENTS)?;
    let (out, _) = out.copy_table(src, tables::WEBHOOK_INBOX)?;
    let (out, _) = out.copy_table(src, tables::OUTBOX)?;
    let (out, _) = out.copy_table(src, tables::FEEDS)?;
    let (out, _) = out.copy_table(src, tables::IMPORTED)?;
    let (out, _) = out.copy_table(src, tables::FEED_UIDS)?;
    let (out, _) = out.copy_table(src, tables::ICAL_EXPORTS)?;
    let (out, _) = out.copy_table(src, tables::CALENDAR_CHANGED)?;
    let (out, _) = out.copy_table(src, tables::WA_SEEN)?;
    let (out, _) = out.copy_table(src, tables::WA_INBOX)?;
    let (out, _) = out.copy_table(src, tables::WA_OUTBOX)?;
    let (out, _) = out.copy_table(src, tables::WA_WAMID)?;
    let (out, _) = out.copy_table(src, tables::CONVERSATIONS)?;
    let (out, _) = out.copy_table(src, tables::WA_THREAD)?;
    let (out, _) = out.copy_table(src, tables::EMAIL_OUTBOX)?;
    let (out, _) = out.copy_table(src, tables::SITE_CONTENT)?;
    let (out, _) = out.copy_table(src, tables::ACCOMMODATION_CONTENT)?;
    let (out, _) = out.copy_table(src, tables::MEDIA)?;
    let (out, _) = out.copy_table(src, tables::TLS)?;
    let (out, _) = out.copy_table(src, tables::SECRETS)?;
    let commits = out.finish()?;
    Ok((reservations, commits))
}

#[cfg(test)]
mod tests {
    use redb::{ReadableDatabase, ReadableTableMetadata};

    use super::*;

    fn store_with(dir: &std::path::Path, reservations: usize) -> Database {
        let db = Database::create(dir.join("src.redb")).unwrap();
        crate::store::schema::migrate(&db).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut t = txn.open_table(tables::RESERVATIONS).unwrap();
            for i in 0..reservations {
                t.insert(format!("RES{i:09}").as_str(), [7u8; 88].as_slice())
                    .unwrap();
            }
        }
        txn.commit().unwrap();
        db
    }

    #[test]
    fn a_copy_larger_than_a_chunk_is_committed_in_several_and_loses_no_entry() {
        let dir = tempfile::tempdir().unwrap();
        let src = store_with(dir.path(), 1000);
        let dst = Database::create(dir.path().join("dst.redb")).unwrap();
        // 100 bytes per reservation (12 of key, 88 of value): ten chunks of 10,000 bytes.
        let (reservations, commits) =
            copy_in_chunks((&src.begin_read().unwrap(), None), &dst, 10_000).unwrap();
        assert_eq!(reservations, 1000);
        assert!(commits >= 10, "{commits} commits");
        let read = dst.begin_read().unwrap();
        let copied = read.open_table(tables::RESERVATIONS).unwrap();
        assert_eq!(copied.len().unwrap(), 1000);
        for i in [0, 99, 100, 999] {
            let key = format!("RES{i:09}");
            assert_eq!(
                copied.get(key.as_str()).unwrap().unwrap().value(),
                [7u8; 88]
            );
        }
        assert_eq!(
            crate::store::schema::version(&dst).unwrap(),
            crate::store::schema::version(&src).unwrap()
        );
    }

    #[test]
    fn a_table_that_ends_on_a_chunk_boundary_is_copied_whole() {
        let dir = tempfile::tempdir().unwrap();
        let src = store_with(dir.path(), 100);
        let dst = Database::create(dir.path().join("dst.redb")).unwrap();
        let (reservations, _) =
            copy_in_chunks((&src.begin_read().unwrap(), None), &dst, 10_000).unwrap();
        assert_eq!(reservations, 100);
        let read = dst.begin_read().unwrap();
        assert_eq!(
            read.open_table(tables::RESERVATIONS)
                .unwrap()
                .len()
                .unwrap(),
            100
        );
        assert_eq!(
            crate::store::schema::version(&dst).unwrap(),
            crate::store::schema::version(&src).unwrap()
        );
    }
}
