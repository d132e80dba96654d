//! Persistence, and the only module that knows redb: tables, schema version and migrations,
//! the group-commit writer, and per-aggregate reads and writes. Business decisions are asked
//! of `domain/` inside the write transaction; nothing here imports the application or a
//! channel.

mod accommodations;
mod admins;
mod archive;
mod audit;
pub mod backup;
mod blocks;
mod calendar;
mod client_holds;
mod content;
mod email;
mod error;
mod feeds;
mod files;
pub use files::private_dir;
mod hold_limits;
mod idempotency;
mod import;
mod imported;
mod inbox;
mod occupancy;
mod outbox;
mod payments;
mod queue;
mod reservations;
pub mod schema;
mod space;
/// Public so that tests can write bytes into a real store file the way a damaged store or an
/// incompatible binary would have left them.
pub mod tables;
mod thread;
mod tls;
mod unreadable;
mod whatsapp;
mod writer;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use redb::{Database, ReadTransaction, ReadableDatabase};
use space::DbHandle;

pub use accommodations::AccommodationError;
pub use admins::{AdminSession, AdminUser};
pub use archive::{ARCHIVE_AFTER, ARCHIVE_FILE, ArchiveStep};
pub use blocks::BlockError;
pub use calendar::{CalendarExport, ExportHead, ExportItem, ExportedKind};
pub use client_holds::ClientHolds;
pub use content::{ContentError, NewMedia};
pub use error::StoreError;
pub use feeds::{Applied, FeedError, Snapshot};
pub use idempotency::{IdempotencyKey, Replay};
pub use import::ImportError;
pub use imported::Conflict;
pub use inbox::InboxEntry;
pub use outbox::{EVENT_PAGE, EventPage};
pub use payments::PaymentFilter;
pub use reservations::{ReservationFilter, ReservationPage};
pub use space::{available_bytes, means_no_space};
use unreadable::Unreadable;
pub use unreadable::{SkipUnreadable, UnreadableRecord};
use writer::Writer;

/// File name of the store inside the data directory.
pub const STORE_FILE: &str = "alojamientos.redb";

/// Opens (or creates) the redb file `name` in `data_dir`, owner-only; a second process on it
/// gets [`StoreError::AlreadyOpen`].
fn open_file(
    data_dir: &Path,
    name: &str,
    cache_bytes: usize,
) -> Result<(Database, std::path::PathBuf), StoreError> {
    let path = data_dir.join(name);
    let db = Database::builder()
        .set_cache_size(cache_bytes)
        .create(&path)
        .map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => {
                StoreError::AlreadyOpen(data_dir.to_owned())
            }
            other => StoreError::Database(other),
        })?;
    files::private_file(&path).map_err(|source| StoreError::DataDir {
        path: path.clone(),
        source,
    })?;
    Ok((db, path))
}

/// Page cache of the archive file: it is read for single old reservations and full scans only.
const ARCHIVE_CACHE_BYTES: usize = 1 << 20;

/// The open store: concurrent MVCC reads, writes through the group-commit writer.
#[derive(Clone)]
pub struct Store {
    db: Arc<DbHandle>,
    writer: Writer,
    path: Arc<Path>,
    /// Records met that do not decode.
    unreadable: Unreadable,
    /// The key guests' access tokens are derived with (made at first start, kept in the store).
    guest_token_key: Arc<[u8]>,
    /// Guests' live unpaid holds by client and accommodation (the hold limits' index).
    live_holds: Arc<hold_limits::LiveHolds>,
    /// Where the WhatsApp and email senders' passes start reading their outboxes.
    outbox_marks: OutboxMarks,
    /// Reservations that can no longer change, in their own file (`store/archive.rs`).
    archive: archive::Archive,
}

/// The low-water marks of the two outboxes.
#[derive(Clone, Default)]
struct OutboxMarks {
    whatsapp: queue::Mark,
    email: queue::Mark,
}

impl Store {
    /// Opens (or creates) the store in `data_dir`, runs migrations and starts the writer.
    /// A second process on the same directory gets [`StoreError::AlreadyOpen`]. The index of
    /// live holds keeps every list (see [`Store::open_for`]).
    pub fn open(
        data_dir: &Path,
        lock_timeout: Duration,
        cache_bytes: usize,
    ) -> Result<(Store, std::thread::JoinHandle<()>), StoreError> {
        Self::open_with(data_dir, (lock_timeout, cache_bytes), None)
    }

    /// [`Store::open`] for a server whose guests' holds are checked against `limits`: the
    /// index of live holds keeps, and reads at open, only the lists they check (see
    /// `store/hold_limits.rs`).
    pub fn open_for(
        data_dir: &Path,
        lock_timeout: Duration,
        cache_bytes: usize,
        limits: &crate::domain::hold_limits::HoldLimits,
    ) -> Result<(Store, std::thread::JoinHandle<()>), StoreError> {
        Self::open_with(data_dir, (lock_timeout, cache_bytes), Some(limits))
    }

    fn open_with(
        data_dir: &Path,
        (lock_timeout, cache_bytes): (Duration, usize),
        limits: Option<&crate::domain::hold_limits::HoldLimits>,
    ) -> Result<(Store, std::thread::JoinHandle<()>), StoreError> {
        files::private_dir(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let (db, path) = open_file(data_dir, STORE_FILE, cache_bytes)?;
        let found = schema::migrate(&db)?;
        match found {
            None => tracing::info!(path = %path.display(), "created a new store"),
            Some(v) if v < schema::CURRENT_VERSION => tracing::info!(
                path = %path.display(),
                from = v,
                to = schema::CURRENT_VERSION,
                "migrated the store"
            ),
            Some(_) => {}
        }
        let guest_token_key = {
            let txn = db.begin_read()?;
            let secrets = txn.open_table(tables::SECRETS)?;
            let key = secrets
                .get(tables::GUEST_TOKEN_KEY)?
                .ok_or_else(|| StoreError::Corrupt("the guest token key is missing".into()))?;
            Arc::from(key.value())
        };
        let archive = archive::Archive::open(data_dir, ARCHIVE_CACHE_BYTES)?;
        let unreadable = Unreadable::default();
        let live_holds = Arc::new(hold_limits::LiveHolds::rebuild(
            &db.begin_read()?,
            &unreadable,
            jiff::Timestamp::now(),
            limits,
        )?);
        let db = Arc::new(DbHandle::new(db, path.clone(), cache_bytes));
        let (writer, handle) = Writer::start(
            db.clone(),
            data_dir.to_owned(),
            lock_timeout,
            (unreadable.clone(), live_holds.clone()),
        );
        unreadable::register_metrics();
        let store = Store {
            db,
            writer,
            path: path.into(),
            unreadable,
            guest_token_key,
            outbox_marks: OutboxMarks::default(),
            live_holds,
            archive,
        };
        Ok((store, handle))
    }

    /// Refuses writes with [`StoreError::StorageFull`] while the file system holding the store
    /// has less than `bytes` available (0, the default, never refuses), so a commit never runs
    /// the disk dry; writes resume by themselves once space is freed.
    pub fn set_min_free_bytes(&self, bytes: u64) {
        self.writer.set_min_free_bytes(bytes);
    }

    /// Whether the last write was refused because the disk is full.
    pub fn is_storage_full(&self) -> bool {
        self.writer.is_storage_full()
    }

    /// Runs `f` on a consistent read snapshot. Never waits for the writer. A record `f` could
    /// not decode is noted.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&ReadTransaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let txn = self.db.get()?.begin_read()?;
        let result = f(&txn);
        if let Err(e) = &result {
            self.unreadable.note_error(e);
        }
        result
    }

    /// The records met since the store opened that do not decode, by table and key.
    pub fn unreadable_records(&self) -> Vec<UnreadableRecord> {
        self.unreadable.list()
    }

    /// How many records [`Store::unreadable_records`] lists.
    pub fn unreadable_count(&self) -> usize {
        self.unreadable.count()
    }

    /// The key guests' access tokens are derived with.
    pub fn guest_token_key(&self) -> &[u8] {
        &self.guest_token_key
    }

    /// Commits from now on let a restart after a crash skip the full repair (see
    /// `server.quick_repair`).
    pub fn set_quick_repair(&self, on: bool) {
        self.writer.set_quick_repair(on);
    }

    /// Whether writes can be taken (the writer thread runs).
    pub fn is_writable(&self) -> bool {
        self.writer.is_alive()
    }

    /// Stops the writer after a last commit (at shutdown, once requests have drained).
    pub async fn close(&self) {
        self.writer.close().await;
    }

    /// Whether the store is closing (the server is stopping).
    pub fn is_closing(&self) -> bool {
        self.writer.is_closing()
    }

    /// Operations waiting for or inside the writer: the "locks held" of health.
    pub fn locks_held(&self) -> usize {
        self.writer.in_flight()
    }

    /// Writes a consistent snapshot to `dest` (blocking: call from `spawn_blocking`): one
    /// store file with the archived reservations back among the live ones (the live file is
    /// read first; whatever left it since is in the archive by then).
    pub fn snapshot_to(&self, dest: &Path) -> Result<backup::SnapshotInfo, backup::BackupError> {
        let txn = self.db.get()?.begin_read().map_err(StoreError::from)?;
        let archived = self.archive.begin_read()?;
        backup::snapshot_from(txn, Some(archived), dest)
    }

    /// Proves the store works end to end: a read snapshot opens and an empty write commits
    /// through the writer within `limit` (or is refused at once because the disk is full: the
    /// writer is alive, and a restart would not free space).
    pub async fn ping(&self, limit: Duration) -> bool {
        if self.read(|_| Ok(())).is_err() || !self.is_writable() {
            return false;
        }
        matches!(
            tokio::time::timeout(limit, self.writer.write(|_| Ok(()))).await,
            Ok(Ok(()) | Err(StoreError::StorageFull))
        )
    }

    /// Holds not yet expired by the hold-expiry job (lapsed ones included until it runs).
    pub fn live_holds(&self) -> Result<u64, StoreError> {
        use redb::ReadableTableMetadata;
        self.read(|txn| Ok(txn.open_table(tables::HOLD_EXPIRY)?.len()?))
    }

    /// Size of the store file in bytes.
    pub fn file_size(&self) -> u64 {
        std::fs::metadata(&self.path).map_or(0, |m| m.len())
    }

    /// Size of the archive file in bytes.
    pub fn archive_file_size(&self) -> u64 {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::metadata(dir.join(ARCHIVE_FILE)).map_or(0, |m| m.len())
    }
}
