//! The archive: reservations that can no longer change (cancelled, expired, completed, no-show)
//! move, [`ARCHIVE_AFTER`] their last change, from the live store file into a second redb file
//! beside it. Every commit of the live file pays for that file's size (redb's quick repair
//! saves the allocator state of every region on each commit), so keeping history out of it
//! keeps a hold's cost independent of how many stays the host has had.
//!
//! Nothing is lost on the way: a batch is committed durably to the archive first, and only
//! then removed from the live file, and only where the live record is still byte for byte the
//! one archived. A crash in between leaves a record in both files, and the live one wins
//! everywhere (reads, scans, snapshots), so the archive may hold stale copies but never the
//! only copy of anything newer. A write that needs an archived reservation (a late payment
//! for an expired hold) reads it from the archive and saves it into the live file, where it
//! wins until it is archived again.

use std::path::Path;
use std::sync::{Arc, RwLock};

use jiff::{SignedDuration, Timestamp};
use redb::{Durability, ReadTransaction, ReadableDatabase, ReadableTable};

use super::space::{DbHandle, needs_reopen};
use super::tables::RESERVATIONS;
use super::unreadable::{JsonTable, decode_at};
use super::{Store, StoreError};
use crate::domain::reservation::Reservation;

/// File name of the archive inside the data directory.
pub const ARCHIVE_FILE: &str = "alojamientos-archive.redb";

/// Reservation code → `Reservation`, the same JSON as the live `reservations` table.
pub const ARCHIVED: JsonTable<&str> = JsonTable::new("archived_reservations");

/// How long a closed reservation stays in the live file after its last change: a week of
/// late payments and host corrections are served from there; later ones still work (above).
pub const ARCHIVE_AFTER: SignedDuration = SignedDuration::from_hours(7 * 24);

/// Reservations moved per archive commit, and live records read per step looking for them.
const MOVE_BATCH: usize = 512;
const SCAN_STEP: usize = 4096;

/// The open archive file, shared by every handle of one store.
#[derive(Clone)]
pub(super) struct Archive {
    db: Arc<DbHandle>,
    /// The greatest code archived: a new code above it (every code made today) is not there.
    newest: Arc<RwLock<String>>,
}

impl Archive {
    /// Opens (or creates) the archive in `data_dir`.
    pub(super) fn open(data_dir: &Path, cache_bytes: usize) -> Result<Archive, StoreError> {
        let (db, path) = super::open_file(data_dir, ARCHIVE_FILE, cache_bytes)?;
        let newest = match db.begin_read()?.open_table(ARCHIVED) {
            Ok(table) => table.last()?.map(|(k, _)| k.value().to_owned()),
            // A new archive: one commit creates its table (not one per start: a commit saves
            // the allocator state of the whole file).
            Err(redb::TableError::TableDoesNotExist(_)) => {
                let mut txn = db.begin_write()?;
                txn.set_quick_repair(true);
                txn.open_table(ARCHIVED)?;
                txn.commit()?;
                None
            }
            Err(e) => return Err(e.into()),
        };
        let newest = newest.unwrap_or_default();
        Ok(Archive {
            db: Arc::new(DbHandle::new(db, path, cache_bytes)),
            newest: Arc::new(RwLock::new(newest)),
        })
    }

    pub(super) fn begin_read(&self) -> Result<ReadTransaction, StoreError> {
        Ok(self.db.get()?.begin_read()?)
    }

    /// The archived reservation `code`, if there is one.
    pub(super) fn get(&self, code: &str) -> Result<Option<Reservation>, StoreError> {
        if !self.may_hold(code) {
            return Ok(None);
        }
        let txn = self.begin_read()?;
        let table = txn.open_table(ARCHIVED)?;
        let found = table.get(code)?;
        found
            .map(|v| decode_at(&ARCHIVED, code, v.value()))
            .transpose()
    }

    /// Whether `code` is taken by an archived reservation.
    pub(super) fn holds(&self, code: &str) -> Result<bool, StoreError> {
        if !self.may_hold(code) {
            return Ok(false);
        }
        let txn = self.begin_read()?;
        let found = txn.open_table(ARCHIVED)?.get(code)?.is_some();
        Ok(found)
    }

    fn may_hold(&self, code: &str) -> bool {
        code <= self
            .newest
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_str()
    }

    /// Writes `records` (code, JSON) in one durable commit.
    pub(super) fn put(&self, records: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        let result = self.try_put(records);
        if let Err(e) = &result
            && needs_reopen(e)
        {
            self.db.reopen()?;
        }
        result
    }

    fn try_put(&self, records: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        let mut txn = self.db.get()?.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        txn.set_quick_repair(true);
        {
            let mut table = txn.open_table(ARCHIVED)?;
            for (code, json) in records {
                table.insert(code.as_str(), json.as_slice())?;
            }
        }
        txn.commit()?;
        if let Some(top) = records.iter().map(|(code, _)| code).max() {
            let mut newest = self.newest.write().unwrap_or_else(|p| p.into_inner());
            if top.as_str() > newest.as_str() {
                top.clone_into(&mut newest);
            }
        }
        Ok(())
    }
}

/// Whether `r` can move to the archive at `now`: it no longer holds dates (so no index of the
/// live file names it) and has not changed for [`ARCHIVE_AFTER`].
pub(super) fn archivable(r: &Reservation, now: Timestamp) -> bool {
    let last_change = r.history.last().map_or(r.created_at, |h| h.at);
    !r.status.holds_dates() && now.duration_since(last_change) >= ARCHIVE_AFTER
}

/// One step of an archive pass: what was copied and where the next step starts.
pub struct ArchiveStep {
    copied: Vec<(String, Vec<u8>)>,
    /// The last live code read, when more may follow.
    pub next: Option<String>,
}

impl Store {
    /// Reads up to [`SCAN_STEP`] live reservations after `after` and copies the archivable
    /// ones to the archive in one durable commit (blocking: run it on a background thread,
    /// then pass the step to [`Store::forget_archived`]). Unreadable records stay live.
    pub fn copy_to_archive(
        &self,
        after: Option<&str>,
        now: Timestamp,
    ) -> Result<ArchiveStep, StoreError> {
        use std::ops::Bound;
        let (copied, next) = self.read(|txn| {
            let table = txn.open_table(RESERVATIONS)?;
            let start = after.map_or(Bound::Unbounded, Bound::Excluded);
            let mut copied = Vec::new();
            for (read, entry) in table.range::<&str>((start, Bound::Unbounded))?.enumerate() {
                let (k, v) = entry?;
                let decoded = decode_at(&RESERVATIONS, k.value(), v.value());
                if let Some(r) = self.unreadable.skip::<Reservation>(decoded)?
                    && archivable(&r, now)
                {
                    copied.push((k.value().to_owned(), v.value().to_vec()));
                }
                if read + 1 == SCAN_STEP || copied.len() == MOVE_BATCH {
                    return Ok((copied, Some(k.value().to_owned())));
                }
            }
            Ok((copied, None))
        })?;
        if !copied.is_empty() {
            self.archive.put(&copied)?;
        }
        Ok(ArchiveStep { copied, next })
    }

    /// Removes from the live file the reservations `step` archived that have not changed
    /// since; returns how many.
    pub async fn forget_archived(&self, step: ArchiveStep) -> Result<usize, StoreError> {
        if step.copied.is_empty() {
            return Ok(0);
        }
        self.writer
            .write(move |txn| {
                let mut table = txn.open_table(RESERVATIONS)?;
                let mut removed = 0;
                for (code, json) in &step.copied {
                    let same = table
                        .get(code.as_str())?
                        .is_some_and(|v| v.value() == json.as_slice());
                    if same {
                        table.remove(code.as_str())?;
                        removed += 1;
                    }
                }
                Ok(removed)
            })
            .await
    }

    /// Reservations in the archive file.
    pub fn archived_count(&self) -> Result<u64, StoreError> {
        use redb::ReadableTableMetadata;
        let txn = self.archive.begin_read()?;
        let n = txn.open_table(ARCHIVED)?.len()?;
        Ok(n)
    }
}
