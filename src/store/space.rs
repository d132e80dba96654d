//! Running out of disk. redb latches an I/O failure: after a write fails (a full disk) every
//! later write fails until the file is closed and opened again. So the writer refuses writes
//! before the disk is full (`server.min_free_mb`), and when a write fails anyway it reopens the
//! database in place ([`DbHandle::reopen`]); the store resumes by itself once space is freed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use redb::Database;

use super::StoreError;

/// Bytes available to this process on the file system holding `path`.
pub fn available_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: c_path is a valid NUL-terminated string and stat a properly sized out-parameter.
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), &mut stat) };
    #[allow(clippy::useless_conversion)] // the field types differ between targets
    (rc == 0).then(|| u64::from(stat.f_bavail).saturating_mul(u64::from(stat.f_frsize)))
}

/// Whether `e` is the file system being full (or the user's quota used up).
pub fn is_no_space(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

/// The I/O error behind a store error, if there is one.
fn io_error(e: &StoreError) -> Option<&std::io::Error> {
    let storage = match e {
        StoreError::Storage(s) => s,
        StoreError::Commit(redb::CommitError::Storage(s)) => s,
        StoreError::Transaction(redb::TransactionError::Storage(s)) => s,
        StoreError::Table(redb::TableError::Storage(s)) => s,
        _ => return None,
    };
    match storage {
        redb::StorageError::Io(io) => Some(io),
        _ => None,
    }
}

/// Whether `e` means the disk is full.
pub fn means_no_space(e: &StoreError) -> bool {
    matches!(e, StoreError::StorageFull) || io_error(e).is_some_and(is_no_space)
}

/// Whether `e` leaves redb refusing every later write until the file is reopened.
pub fn needs_reopen(e: &StoreError) -> bool {
    let latched = |s: &redb::StorageError| {
        matches!(
            s,
            redb::StorageError::Io(_) | redb::StorageError::PreviousIo
        )
    };
    match e {
        StoreError::Storage(s)
        | StoreError::Commit(redb::CommitError::Storage(s))
        | StoreError::Transaction(redb::TransactionError::Storage(s))
        | StoreError::Table(redb::TableError::Storage(s)) => latched(s),
        _ => false,
    }
}

/// The free-space guard: where the store lives, the least free space a write needs, and
/// whether the last write was refused for space.
pub struct SpaceGuard {
    dir: PathBuf,
    min_free: AtomicU64,
    full: AtomicBool,
}

/// Once a write has hit a full disk, writes wait for at least this much free space (or
/// `min_free`, if larger) before they are tried again, instead of failing (and reopening the
/// store) one after another.
const RESUME_FREE: u64 = 1 << 20;

impl SpaceGuard {
    pub fn new(dir: PathBuf) -> SpaceGuard {
        SpaceGuard {
            dir,
            min_free: AtomicU64::new(0),
            full: AtomicBool::new(false),
        }
    }

    pub fn set_min_free(&self, bytes: u64) {
        self.min_free.store(bytes, Ordering::Relaxed);
    }

    /// Whether the last write was refused because the disk is full.
    pub fn is_full(&self) -> bool {
        self.full.load(Ordering::Relaxed)
    }

    /// Whether the file system has less than the required free space now.
    pub fn below_minimum(&self) -> bool {
        let mut min = self.min_free.load(Ordering::Relaxed);
        if self.full.load(Ordering::Relaxed) {
            min = min.max(RESUME_FREE);
        }
        min > 0 && available_bytes(&self.dir).is_some_and(|free| free < min)
    }

    pub fn set_full(&self, full: bool) {
        if self.full.swap(full, Ordering::Relaxed) != full {
            metrics::gauge!("store_storage_full").set(if full { 1.0 } else { 0.0 });
            if full {
                tracing::error!(dir = %self.dir.display(), "the disk is full: writes are refused until space is freed");
            } else {
                tracing::warn!(dir = %self.dir.display(), "disk space is back: writes resume");
            }
        }
    }
}

/// The open database, which the writer can close and open again while the process runs.
pub struct DbHandle {
    current: RwLock<Option<Arc<Database>>>,
    path: PathBuf,
    cache_bytes: usize,
}

/// How long a reopen waits for readers to let go of the old handle.
const REOPEN_WAIT: Duration = Duration::from_secs(5);

impl DbHandle {
    pub fn new(db: Database, path: PathBuf, cache_bytes: usize) -> DbHandle {
        DbHandle {
            current: RwLock::new(Some(Arc::new(db))),
            path,
            cache_bytes,
        }
    }

    /// The database now ([`StoreError::Closed`] during a reopen). Hold it only to begin a
    /// transaction: a transaction does not need it.
    pub fn get(&self) -> Result<Arc<Database>, StoreError> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or(StoreError::Closed)
    }

    /// Closes the database and opens the file again (redb repairs it from its last commit).
    /// Reads see [`StoreError::Closed`] meanwhile; read transactions still open on the old
    /// handle fail. Only the writer thread calls this.
    pub fn reopen(&self) -> Result<(), StoreError> {
        let taken = self
            .current
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(mut old) = taken {
            let deadline = Instant::now() + REOPEN_WAIT;
            loop {
                match Arc::try_unwrap(old) {
                    Ok(db) => {
                        let _ = db.close();
                        break;
                    }
                    Err(shared) if Instant::now() < deadline => {
                        old = shared;
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    Err(shared) => {
                        drop(shared);
                        break;
                    }
                }
            }
        }
        let db = Database::builder()
            .set_cache_size(self.cache_bytes)
            .create(&self.path)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(db));
        tracing::warn!(path = %self.path.display(), "store reopened after an I/O failure");
        metrics::counter!("store_reopens_total").increment(1);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_space_is_recognised_through_redb_errors() {
        let full = || std::io::Error::from_raw_os_error(libc::ENOSPC);
        let commit = StoreError::Commit(redb::CommitError::Storage(redb::StorageError::Io(full())));
        assert!(means_no_space(&commit));
        assert!(needs_reopen(&commit));
        let quota = StoreError::Storage(redb::StorageError::Io(std::io::Error::from_raw_os_error(
            libc::EDQUOT,
        )));
        assert!(means_no_space(&quota));
        let previous = StoreError::Transaction(redb::TransactionError::Storage(
            redb::StorageError::PreviousIo,
        ));
        assert!(!means_no_space(&previous));
        assert!(needs_reopen(&previous));
        assert!(!needs_reopen(&StoreError::Busy));
        assert!(available_bytes(Path::new("/")).is_some_and(|b| b > 0));
    }
}
