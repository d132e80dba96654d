//! The schema version record and the migrations that run on start.

use redb::{Database, ReadableTable, TableDefinition, WriteTransaction};

use super::StoreError;
use super::occupancy;
use super::tables::{self, META};

/// The schema this binary writes.
pub const CURRENT_VERSION: u64 = 2;

const VERSION_KEY: &str = "schema_version";

/// Migration from version `i + 1` to `i + 2` is `MIGRATIONS[i]`.
type Migration = fn(&WriteTransaction) -> Result<(), StoreError>;
const MIGRATIONS: &[Migration] = &[occupancy_by_check_out];
const _: () = assert!(MIGRATIONS.len() as u64 == CURRENT_VERSION - 1);

/// Creates the tables of a new store, or brings an older one up to [`CURRENT_VERSION`] in one
/// transaction; refuses a store written by a newer binary. Returns the version found.
pub fn migrate(db: &Database) -> Result<Option<u64>, StoreError> {
    let mut txn = db.begin_write()?;
    // Every start commits here. With `server.quick_repair` a crash must find the allocator
    // state saved by the last commit: a kill before the first write after a start otherwise
    // repaired the whole file (1.8 s at 1 M reservations against 0.1 s). Without it the next
    // commit drops that state again.
    txn.set_quick_repair(true);
    let found = {
        let meta = txn.open_table(META)?;
        meta.get(VERSION_KEY)?.map(|v| v.value())
    };
    match found {
        Some(v) if v > CURRENT_VERSION => {
            return Err(StoreError::SchemaTooNew {
                found: v,
                supported: CURRENT_VERSION,
            });
        }
        Some(0) => return Err(StoreError::Corrupt("schema version 0".into())),
        Some(v) => {
            for step in &MIGRATIONS[(v - 1) as usize..] {
                step(&txn)?;
            }
        }
        None => {}
    }
    create_tables(&txn)?;
    txn.open_table(META)?.insert(VERSION_KEY, CURRENT_VERSION)?;
    txn.commit()?;
    Ok(found)
}

/// Schema 1's occupancy index: (accommodation, check-in, code) → (check-out, expiry).
const OCCUPANCY_V1: TableDefinition<(u64, i32, &str), (i32, i64)> =
    TableDefinition::new("occupancy");

/// 1 → 2: the occupancy index is keyed by length class and check-out (store/occupancy.rs), so
/// an availability check no longer reads the accommodation's whole history.
fn occupancy_by_check_out(txn: &WriteTransaction) -> Result<(), StoreError> {
    {
        let old = txn.open_table(OCCUPANCY_V1)?;
        let mut new = txn.open_table(tables::OCCUPANCY)?;
        for entry in old.iter()? {
            let (k, v) = entry?;
            let (accommodation, check_in, code) = k.value();
            let (check_out, expires) = v.value();
            let held = occupancy::decode(code, check_in, check_out, expires)?;
            occupancy::insert(&mut new, accommodation, code, &held)?;
        }
    }
    txn.delete_table(OCCUPANCY_V1)?;
    Ok(())
}

fn create_tables(txn: &WriteTransaction) -> Result<(), StoreError> {
    txn.open_table(tables::ACCOMMODATIONS)?;
    txn.open_table(tables::RESERVATIONS)?;
    txn.open_table(tables::BLOCKS)?;
    txn.open_table(tables::OCCUPANCY)?;
    txn.open_table(tables::HOLD_EXPIRY)?;
    txn.open_table(tables::IDEMPOTENCY)?;
    txn.open_table(tables::ADMINS)?;
    txn.open_table(tables::SESSIONS)?;
    txn.open_table(tables::FEEDS)?;
    txn.open_table(tables::IMPORTED)?;
    txn.open_table(tables::FEED_UIDS)?;
    txn.open_table(tables::ICAL_EXPORTS)?;
    txn.open_table(tables::CALENDAR_CHANGED)?;
    txn.open_table(tables::PAYMENTS)?;
    txn.open_table(tables::RESERVATION_PAYMENTS)?;
    txn.open_table(tables::WEBHOOK_INBOX)?;
    txn.open_table(tables::OUTBOX)?;
    txn.open_table(tables::WA_SEEN)?;
    txn.open_table(tables::WA_INBOX)?;
    txn.open_table(tables::WA_OUTBOX)?;
    txn.open_table(tables::WA_WAMID)?;
    txn.open_table(tables::CONVERSATIONS)?;
    txn.open_table(tables::WA_THREAD)?;
    txn.open_table(tables::EMAIL_OUTBOX)?;
    txn.open_table(tables::SITE_CONTENT)?;
    txn.open_table(tables::ACCOMMODATION_CONTENT)?;
    txn.open_table(tables::MEDIA)?;
    txn.open_table(tables::TLS)?;
    txn.delete_table(tables::LEGACY_HOLD_CLIENTS)?;
    txn.delete_table(tables::LEGACY_GUEST_HOLDS)?;
    let mut secrets = txn.open_table(tables::SECRETS)?;
    if secrets.get(tables::GUEST_TOKEN_KEY)?.is_none() {
        secrets.insert(
            tables::GUEST_TOKEN_KEY,
            rand::random::<[u8; 32]>().as_slice(),
        )?;
    }
    Ok(())
}

/// The schema version recorded in an open store.
pub fn version(db: &Database) -> Result<Option<u64>, StoreError> {
    use redb::ReadableDatabase;
    let txn = db.begin_read()?;
    let meta = txn.open_table(META)?;
    Ok(meta.get(VERSION_KEY)?.map(|v| v.value()))
}
