//! Checking and restoring snapshots without touching them. Opening a redb file read-write
//! rewrites its header (and a repair rewrites more), so the file named by the operator is only
//! ever read: it is copied, hashed while copying, and the copy is what redb opens and checks.
//! `check` works on a copy in the temporary directory that is removed afterwards; `restore`
//! copies into the data directory and the checked copy becomes the store.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use redb::{Database, ReadOnlyDatabase, ReadTransaction, ReadableTableMetadata, TableDefinition};

use super::{BackupError, CheckReport, checksum_path, io, read_hashing, sync_dir};
use crate::store::archive::ARCHIVED;
use crate::store::{ARCHIVE_FILE, STORE_FILE, StoreError, schema, tables};

/// A copy of a file made for checking; removed when dropped unless [`PrivateCopy::keep`] ran.
struct PrivateCopy {
    path: PathBuf,
    sha256: String,
    kept: bool,
}

impl PrivateCopy {
    /// Copies `src` to the new file `dest` (refusing to overwrite one), hashing the bytes as
    /// they are copied, and fsyncs the copy.
    fn make(src: &Path, dest: PathBuf) -> Result<PrivateCopy, BackupError> {
        let mut to = File::options()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&dest)
            .map_err(io(&dest))?;
        let mut copy = PrivateCopy {
            path: dest,
            sha256: String::new(),
            kept: false,
        };
        copy.sha256 = read_hashing(src, |chunk| to.write_all(chunk).map_err(io(&copy.path)))?;
        to.sync_all().map_err(io(&copy.path))?;
        Ok(copy)
    }

    /// Keeps the file when the copy is dropped.
    fn keep(mut self) -> PathBuf {
        self.kept = true;
        std::mem::take(&mut self.path)
    }
}

impl Drop for PrivateCopy {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The checksum recorded beside `path`, if any.
fn expected_checksum(path: &Path, required: bool) -> Result<Option<String>, BackupError> {
    match std::fs::read_to_string(checksum_path(path)) {
        Ok(text) => Ok(Some(
            text.split_whitespace().next().unwrap_or("").to_lowercase(),
        )),
        Err(_) if required => Err(BackupError::MissingChecksum(path.to_owned())),
        Err(_) => Ok(None),
    }
}

/// Fails with [`StoreError::AlreadyOpen`] when a process holds `path` (a running server),
/// without opening it for writing. Any other trouble is left to the check of the copy.
fn refuse_if_held(path: &Path, data_dir: &Path) -> Result<(), BackupError> {
    match ReadOnlyDatabase::open(path) {
        Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
            Err(StoreError::AlreadyOpen(data_dir.to_owned()).into())
        }
        _ => Ok(()),
    }
}

/// A fresh name for a check's private copy in the temporary directory.
fn scratch_path() -> PathBuf {
    let nonce: u64 = rand::random();
    std::env::temp_dir().join(format!(
        "alojamientos-check-{}-{nonce:016x}.redb",
        std::process::id()
    ))
}

/// Copies `path` and checks the copy (see [`check_file`]); `path` itself is only read, so its
/// bytes, checksum and times stay as they were. The checksum beside it is required when
/// `require_checksum`. Refused while a process holds `path`.
pub fn verify(path: &Path, require_checksum: bool) -> Result<CheckReport, BackupError> {
    if !path.is_file() {
        return Err(BackupError::Io {
            path: path.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        });
    }
    refuse_if_held(path, path)?;
    let expected = expected_checksum(path, require_checksum)?;
    let copy = PrivateCopy::make(path, scratch_path())?;
    verify_copy(path, &copy, expected)
}

/// Copies the archive file at `path` and checks the copy: redb's integrity check and that every
/// archived reservation decodes. Returns how many it holds (none in an archive whose table was
/// never created). `path` is only read; refused while a process holds it.
pub fn verify_archive(path: &Path) -> Result<u64, BackupError> {
    refuse_if_held(path, path.parent().unwrap_or(path))?;
    let copy = PrivateCopy::make(path, scratch_path())?;
    let mut db = Database::open(&copy.path).map_err(StoreError::from)?;
    if !db.check_integrity().map_err(StoreError::from)? {
        return Err(BackupError::Integrity(path.to_owned()));
    }
    let txn = redb::ReadableDatabase::begin_read(&db).map_err(StoreError::from)?;
    match txn.open_table(ARCHIVED) {
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(0),
        opened => {
            opened.map_err(StoreError::from)?;
            Ok(count_decoded(&txn, ARCHIVED)?)
        }
    }
}

/// Compares the copy's hash with `expected`, then checks the copy.
fn verify_copy(
    original: &Path,
    copy: &PrivateCopy,
    expected: Option<String>,
) -> Result<CheckReport, BackupError> {
    let checksum_verified = match expected {
        Some(expected) if expected != copy.sha256 => {
            return Err(BackupError::ChecksumMismatch {
                path: original.to_owned(),
                expected,
                found: copy.sha256.clone(),
            });
        }
        Some(_) => true,
        None => false,
    };
    let mut report = check_file(&copy.path).map_err(|e| match e {
        BackupError::Integrity(_) => BackupError::Integrity(original.to_owned()),
        BackupError::SchemaTooNew {
            found, supported, ..
        } => BackupError::SchemaTooNew {
            path: original.to_owned(),
            found,
            supported,
        },
        other => other,
    })?;
    report.checksum_verified = checksum_verified;
    Ok(report)
}

/// redb's integrity check, the schema version, and that every reservation decodes, on a file
/// this process may modify (redb opens it read-write and may repair it).
fn check_file(path: &Path) -> Result<CheckReport, BackupError> {
    let mut db = Database::open(path).map_err(StoreError::from)?;
    if !db.check_integrity().map_err(StoreError::from)? {
        return Err(BackupError::Integrity(path.to_owned()));
    }
    let schema_version = schema::version(&db)?.unwrap_or(0);
    if schema_version > schema::CURRENT_VERSION {
        return Err(BackupError::SchemaTooNew {
            path: path.to_owned(),
            found: schema_version,
            supported: schema::CURRENT_VERSION,
        });
    }
    let txn = redb::ReadableDatabase::begin_read(&db).map_err(StoreError::from)?;
    let reservations = count_decoded(&txn, tables::RESERVATIONS)?;
    let accommodations = txn
        .open_table(tables::ACCOMMODATIONS)
        .map_err(StoreError::from)?
        .len()
        .map_err(StoreError::from)?;
    Ok(CheckReport {
        schema_version,
        reservations,
        accommodations,
        checksum_verified: false,
        archived_reservations: None,
    })
}

/// Counts a JSON table's records, failing on one that does not decode.
fn count_decoded(
    txn: &ReadTransaction,
    def: TableDefinition<&str, &[u8]>,
) -> Result<u64, StoreError> {
    use redb::ReadableTable;
    let table = txn.open_table(def)?;
    let mut n = 0;
    for entry in table.iter()? {
        let (_, v) = entry?;
        tables::decode::<serde_json::Value>(v.value())?;
        n += 1;
    }
    Ok(n)
}

/// Replaces the store in `data_dir` by a verified copy of `snapshot`, which is only read (so
/// the same snapshot can be restored again). The replaced store is kept as
/// `alojamientos.redb.replaced-<time>` (returned), and its archive, if any, as
/// `alojamientos-archive.redb.replaced-<time>`: the snapshot holds the archived reservations
/// too. The server must be stopped.
pub fn restore(
    data_dir: &Path,
    snapshot: &Path,
) -> Result<(CheckReport, Option<PathBuf>), BackupError> {
    let live = data_dir.join(STORE_FILE);
    if live.exists() {
        refuse_if_held(&live, data_dir)?;
    }
    if !snapshot.is_file() {
        return Err(BackupError::Io {
            path: snapshot.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        });
    }
    let expected = expected_checksum(snapshot, true)?;
    crate::store::files::private_dir(data_dir).map_err(io(data_dir))?;
    let incoming = data_dir.join(format!("{STORE_FILE}.restoring"));
    let _ = std::fs::remove_file(&incoming);
    let copy = PrivateCopy::make(snapshot, incoming)?;
    let report = verify_copy(snapshot, &copy, expected)?;
    let incoming = copy.keep();
    let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%S%.3fZ");
    let archive = data_dir.join(ARCHIVE_FILE);
    if archive.exists() {
        let aside = data_dir.join(format!("{ARCHIVE_FILE}.replaced-{stamp}"));
        std::fs::rename(&archive, &aside).map_err(io(&aside))?;
    }
    let aside = if live.exists() {
        let aside = data_dir.join(format!("{STORE_FILE}.replaced-{stamp}"));
        std::fs::rename(&live, &aside).map_err(io(&aside))?;
        Some(aside)
    } else {
        None
    };
    std::fs::rename(&incoming, &live).map_err(io(&live))?;
    sync_dir(data_dir)?;
    Ok((report, aside))
}
