//! Consistent snapshots of the store. redb has no online backup and copying the live file while
//! writes happen is not safe, so a snapshot copies every table from one read transaction (an
//! MVCC view that sees every commit acknowledged before it began) into a fresh redb file, which
//! is fsync'd, checksummed and renamed into place. Restore and integrity checks work on files.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use redb::{Database, ReadTransaction, ReadableDatabase};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::StoreError;

mod copy;
mod verify;
use copy::copy_all;
pub use verify::{restore, verify, verify_archive};

/// File names of snapshots start with this and end with [`SNAPSHOT_SUFFIX`].
pub const SNAPSHOT_PREFIX: &str = "alojamientos-";
/// Extension of snapshot files; each has a `<name>.sha256` beside it (`sha256sum -c` format).
pub const SNAPSHOT_SUFFIX: &str = ".redb";

/// Why a snapshot, restore or check failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the store holds table {0:?}, which the backup does not know how to copy")]
    UnknownTable(String),
    #[error("{0}: no checksum file beside it ({0}.sha256)")]
    MissingChecksum(PathBuf),
    #[error("{path}: checksum mismatch (expected {expected}, found {found})")]
    ChecksumMismatch {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("{0}: redb's integrity check failed")]
    Integrity(PathBuf),
    #[error(
        "{dir}: not enough free space for a snapshot ({available} bytes free, {needed} needed); \
         the existing snapshots are kept"
    )]
    NoSpace {
        dir: PathBuf,
        needed: u64,
        available: u64,
    },
    #[error("{path}: schema version {found} is newer than this binary supports ({supported})")]
    SchemaTooNew {
        path: PathBuf,
        found: u64,
        supported: u64,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

/// One finished snapshot.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct SnapshotInfo {
    #[schema(value_type = String)]
    pub path: PathBuf,
    pub size_bytes: u64,
    pub sha256: String,
    pub duration_ms: u64,
    /// Reservations in the snapshot.
    pub reservations: u64,
}

/// What a verified store or snapshot holds.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub schema_version: u64,
    pub reservations: u64,
    pub accommodations: u64,
    /// Whether a `.sha256` file was found and matched.
    pub checksum_verified: bool,
    /// Reservations in the archive file beside a live store (`check` without a path); absent
    /// for a snapshot, whose `reservations` already count them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archived_reservations: Option<u64>,
}

/// SHA-256 of a file, hex-encoded.
pub fn file_sha256(path: &Path) -> Result<String, BackupError> {
    read_hashing(path, |_| Ok(()))
}

/// Reads the file at `path` to its end, handing every chunk to `sink`, and returns the SHA-256
/// of what was read (so a copy made by the sink is exactly what the hash covers).
fn read_hashing(
    path: &Path,
    mut sink: impl FnMut(&[u8]) -> Result<(), BackupError>,
) -> Result<String, BackupError> {
    let mut file = File::open(path).map_err(io(path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        sink(&buf[..n])?;
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn checksum_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".sha256");
    PathBuf::from(name)
}

fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// Writes `contents` to `path` through a temporary file, fsync and rename.
fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), BackupError> {
    let tmp = path.with_extension("tmp-write");
    let written = File::create(&tmp)
        .and_then(|mut file| {
            file.write_all(contents)?;
            file.sync_all()
        })
        .map_err(io(&tmp))
        .and_then(|()| std::fs::rename(&tmp, path).map_err(io(path)));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Writes a snapshot of `db` (as of one read transaction) to `dest`, with `dest.sha256`. The
/// snapshot is written beside `dest` as `.partial` and renamed once it and its checksum are on
/// disk, so a file with a snapshot's name is always complete; on any failure (a full disk) the
/// partial file is removed and nothing else is touched.
pub fn snapshot_to(db: &Database, dest: &Path) -> Result<SnapshotInfo, BackupError> {
    snapshot_from(db.begin_read().map_err(StoreError::from)?, None, dest)
}

/// [`snapshot_to`] from a read transaction already begun (the store's view at that moment),
/// with the reservations of an archive's read transaction that the store does not have.
pub fn snapshot_from(
    src: ReadTransaction,
    archived: Option<ReadTransaction>,
    dest: &Path,
) -> Result<SnapshotInfo, BackupError> {
    let started = Instant::now();
    let dir = dest.parent().filter(|p| !p.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    super::files::private_dir(dir).map_err(io(dir))?;
    let tmp = dest.with_extension("redb.partial");
    let _ = std::fs::remove_file(&tmp);
    let written = write_partial((src, archived), &tmp, dest);
    let (reservations, sha256) = match written {
        Ok(done) => done,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    std::fs::rename(&tmp, dest).map_err(io(dest))?;
    sync_dir(dir)?;
    let size_bytes = std::fs::metadata(dest).map_err(io(dest))?.len();
    Ok(SnapshotInfo {
        path: dest.to_owned(),
        size_bytes,
        sha256,
        duration_ms: started.elapsed().as_millis() as u64,
        reservations,
    })
}

/// The page cache of a snapshot being written. redb's default (1 GiB) let a copy's pages stay
/// in memory up to the size of the store: under the soak each ten-minute backup of a 140-290 MB
/// store raised the server's RSS by 15-30 MB that the allocator then kept. 4 MiB still added
/// about 7 MB for the copy's duration, 1 MiB about 4.5 (docs/reliability.md, run 12).
const COPY_CACHE_BYTES: usize = 1 << 20;

/// Copies every table into the new file `tmp`, fsyncs it and writes `dest.sha256`; returns the
/// reservations copied and the file's hash.
fn write_partial(
    (src, archived): (ReadTransaction, Option<ReadTransaction>),
    tmp: &Path,
    dest: &Path,
) -> Result<(u64, String), BackupError> {
    let reservations = {
        let copy = Database::builder()
            .set_cache_size(COPY_CACHE_BYTES)
            .create(tmp)
            .map_err(StoreError::from)?;
        copy_all(&src, archived.as_ref(), &copy)?
    };
    drop((src, archived));
    super::files::private_file(tmp).map_err(io(tmp))?;
    File::open(tmp)
        .and_then(|f| f.sync_all())
        .map_err(io(tmp))?;
    let sha256 = file_sha256(tmp)?;
    let file_name = dest.file_name().unwrap_or_default().to_string_lossy();
    write_atomically(
        &checksum_path(dest),
        format!("{sha256}  {file_name}\n").as_bytes(),
    )?;
    Ok((reservations, sha256))
}

/// A new snapshot file name for now, e.g. `alojamientos-20261128T031500.123Z.redb`.
pub fn snapshot_name() -> String {
    let now = jiff::Timestamp::now();
    format!(
        "{SNAPSHOT_PREFIX}{}{SNAPSHOT_SUFFIX}",
        now.strftime("%Y%m%dT%H%M%S%.3fZ")
    )
}

/// Snapshots in `dir`, oldest first (names sort by time).
pub fn list_snapshots(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![];
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(SNAPSHOT_PREFIX) && n.ends_with(SNAPSHOT_SUFFIX))
        })
        .collect();
    found.sort();
    found
}

/// Deletes the oldest snapshots (and their checksums) beyond `keep`; returns how many went.
pub fn prune(dir: &Path, keep: usize) -> usize {
    let all = list_snapshots(dir);
    let excess = all.len().saturating_sub(keep);
    for old in &all[..excess] {
        let _ = std::fs::remove_file(old);
        let _ = std::fs::remove_file(checksum_path(old));
    }
    excess
}

#[cfg(test)]
mod tests {
    use redb::TableDefinition;

    use super::*;
    use crate::store::{schema, tables};

    fn migrated(dir: &Path) -> Database {
        let db = Database::create(dir.join("live.redb")).unwrap();
        schema::migrate(&db).unwrap();
        db
    }

    #[test]
    fn a_snapshot_copies_every_table_the_schema_creates_and_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let db = migrated(dir.path());
        let info = snapshot_to(&db, &dir.path().join("snap.redb")).unwrap();
        assert_eq!(info.sha256, file_sha256(&info.path).unwrap());
        let report = verify(&info.path, true).unwrap();
        assert_eq!(report.schema_version, schema::CURRENT_VERSION);
        assert!(report.checksum_verified);
    }

    #[test]
    fn a_table_the_backup_does_not_know_fails_the_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let db = migrated(dir.path());
        let txn = db.begin_write().unwrap();
        txn.open_table(TableDefinition::<u64, u64>::new("added_later"))
            .unwrap();
        txn.commit().unwrap();
        let err = snapshot_to(&db, &dir.path().join("snap.redb")).unwrap_err();
        assert!(matches!(err, BackupError::UnknownTable(ref t) if t == "added_later"));
        assert!(!dir.path().join("snap.redb").exists());
    }

    #[test]
    fn a_snapshot_from_a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = migrated(dir.path());
        let txn = db.begin_write().unwrap();
        txn.open_table(tables::META)
            .unwrap()
            .insert("schema_version", schema::CURRENT_VERSION + 1)
            .unwrap();
        txn.commit().unwrap();
        let info = snapshot_to(&db, &dir.path().join("snap.redb")).unwrap();
        let err = verify(&info.path, true).unwrap_err();
        assert!(matches!(err, BackupError::SchemaTooNew { .. }), "{err}");
    }

    #[test]
    fn prune_keeps_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        for day in 1..=5 {
            let name = format!("{SNAPSHOT_PREFIX}2026010{day}T000000.000Z{SNAPSHOT_SUFFIX}");
            std::fs::write(dir.path().join(&name), b"x").unwrap();
            std::fs::write(checksum_path(&dir.path().join(name)), b"x").unwrap();
        }
        assert_eq!(prune(dir.path(), 2), 3);
        let left = list_snapshots(dir.path());
        assert_eq!(left.len(), 2);
        assert!(left[0].to_string_lossy().contains("20260104"));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 4);
    }
}
