//! Stored records that no longer decode, on a real redb file: bogus bytes are written through
//! the store's own table definitions while the server is stopped, then the server runs on it.
//! Lists, jobs, workers, the export, reconciliation and the watchdog go on; the bad records are
//! counted, listed for the host and turn health degraded; reading one answers a stable code.

use std::path::Path;

use alojamientos::store::STORE_FILE;
use alojamientos::store::tables::META;
use redb::{ReadableTable, TableDefinition, WriteTransaction};

mod everything;
mod jobs;

/// Bytes no record type reads: a truncated document.
pub(crate) const BOGUS: &[u8] = b"{\"code\": 7";

/// Opens the stopped server's store file with redb and lets `write` change it in one commit.
pub fn tamper(dir: &Path, write: impl FnOnce(&WriteTransaction)) {
    let db = redb::Database::create(dir.join(STORE_FILE)).unwrap();
    let txn = db.begin_write().unwrap();
    write(&txn);
    txn.commit().unwrap();
}

/// Writes [`BOGUS`] as the next record of a sequence-keyed table whose counter is `next_key`.
pub(crate) fn append_bogus(
    txn: &WriteTransaction,
    table: TableDefinition<'static, u64, &'static [u8]>,
    next_key: &str,
) {
    let mut meta = txn.open_table(META).unwrap();
    let id = meta.get(next_key).unwrap().map_or(1, |v| v.value());
    meta.insert(next_key, id + 1).unwrap();
    txn.open_table(table).unwrap().insert(id, BOGUS).unwrap();
}
