//! The occupancy index: every booking, hold and block that may hold dates, by accommodation
//! and check-in, so an availability check reads only one accommodation's entries.

use jiff::Timestamp;
use redb::{ReadableTable, WriteTransaction};

use super::StoreError;
use super::tables::{CALENDAR_CHANGED, NO_EXPIRY, OCCUPANCY};
use crate::domain::availability::Occupancy;
use crate::domain::dates::{NightRange, date_from_key, date_key};

type Key = (u64, i32, &'static str);
type Val = (i32, i64);

/// The entries of `accommodation` that overlap `window`, with their codes.
pub fn overlapping(
    table: &impl ReadableTable<Key, Val>,
    accommodation: u64,
    window: &NightRange,
) -> Result<Vec<(String, Occupancy)>, StoreError> {
    let from = date_key(window.check_in());
    let upto = date_key(window.check_out());
    let mut found = Vec::new();
    for entry in table.range((accommodation, i32::MIN, "")..(accommodation, upto, ""))? {
        let (k, v) = entry?;
        let (_, check_in, code) = k.value();
        let (check_out, expires) = v.value();
        if check_out <= from {
            continue;
        }
        let range = match (date_from_key(check_in), date_from_key(check_out)) {
            (Some(a), Some(b)) => NightRange::new(a, b).ok(),
            _ => None,
        }
        .ok_or_else(|| StoreError::Corrupt(format!("occupancy entry {code} has bad dates")))?;
        let hold_expires_at = (expires != NO_EXPIRY)
            .then(|| Timestamp::from_millisecond(expires).ok())
            .flatten();
        found.push((
            code.to_owned(),
            Occupancy {
                range,
                hold_expires_at,
            },
        ));
    }
    Ok(found)
}

/// Adds or replaces the entry for `code`.
pub fn put(
    txn: &WriteTransaction,
    accommodation: u64,
    code: &str,
    occupancy: &Occupancy,
) -> Result<(), StoreError> {
    let mut table = txn.open_table(OCCUPANCY)?;
    let expires = occupancy
        .hold_expires_at
        .map_or(NO_EXPIRY, |t| t.as_millisecond());
    table.insert(
        (accommodation, date_key(occupancy.range.check_in()), code),
        (date_key(occupancy.range.check_out()), expires),
    )?;
    touch(txn, accommodation)
}

/// Removes the entry for `code`.
pub fn remove(
    txn: &WriteTransaction,
    accommodation: u64,
    code: &str,
    range: &NightRange,
) -> Result<(), StoreError> {
    let mut table = txn.open_table(OCCUPANCY)?;
    table.remove((accommodation, date_key(range.check_in()), code))?;
    touch(txn, accommodation)
}

/// Records that the held dates of `accommodation` changed now (the export's Last-Modified and
/// cache version): strictly increasing, even for two changes within one millisecond.
pub fn touch(txn: &WriteTransaction, accommodation: u64) -> Result<(), StoreError> {
    let now = Timestamp::now().as_millisecond();
    let mut table = txn.open_table(CALENDAR_CHANGED)?;
    let last = table.get(accommodation)?.map_or(i64::MIN, |v| v.value());
    table.insert(accommodation, now.max(last.saturating_add(1)))?;
    Ok(())
}

/// Whether `range` is free at `now`, ignoring the entry `except` (the reservation itself).
pub fn is_free(
    txn: &WriteTransaction,
    accommodation: u64,
    range: &NightRange,
    now: Timestamp,
    except: Option<&str>,
) -> Result<bool, StoreError> {
    let table = txn.open_table(OCCUPANCY)?;
    let taken: Vec<Occupancy> = overlapping(&table, accommodation, range)?
        .into_iter()
        .filter(|(code, _)| Some(code.as_str()) != except)
        .map(|(_, o)| o)
        .collect();
    Ok(crate::domain::availability::is_free(range, &taken, now))
}
