//! The occupancy index: every booking, hold and block that may hold dates, filed by
//! accommodation, length class and check-out, so an availability check reads only the entries
//! that can overlap its window, however long the accommodation's history.
//!
//! An entry overlaps `[start, end)` when it ends after `start` and begins before `end`. Keyed by
//! check-out, the scan starts exactly after `start`: everything that ended before, the whole
//! history, is never read, whatever its length. Where the scan may stop depends on the longest
//! entry that can begin before `end`, and one accommodation can hold one-night holds next to a
//! six-month imported block. So entries are filed in length classes (up to a week, up to two
//! months, longer) and each class is scanned only as far as its own longest entry allows. There
//! is no stored maximum to keep in step with the data: the class is a function of the entry.

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use redb::{ReadableTable, WriteTransaction};

use super::StoreError;
use super::tables::{CALENDAR_CHANGED, NO_EXPIRY, OCCUPANCY};
use crate::domain::availability::Occupancy;
use crate::domain::dates::{NightRange, date_from_key, date_key};
use crate::domain::ids::is_reservation_code;

/// (accommodation, length class, check-out, code).
pub type Key = (u64, u8, i32, &'static str);
/// (check-in, hold expiry in ms or [`NO_EXPIRY`]).
pub type Val = (i32, i64);

/// The longest entry, in nights, of each bounded length class; longer entries go in the last,
/// unbounded class. Guests' stays fit the first two (`reservations.max_nights` defaults to 60).
const CLASS_NIGHTS: [u32; 2] = [7, 62];
const CLASSES: u8 = CLASS_NIGHTS.len() as u8 + 1;

fn class_of(range: &NightRange) -> u8 {
    let nights = range.nights();
    CLASS_NIGHTS
        .iter()
        .position(|&max| nights <= max)
        .map_or(CLASSES - 1, |i| i as u8)
}

fn key<'a>(accommodation: u64, range: &NightRange, code: &'a str) -> (u64, u8, i32, &'a str) {
    (
        accommodation,
        class_of(range),
        date_key(range.check_out()),
        code,
    )
}

/// `date_key(day + nights)`, or the largest key when that is past the calendar's end.
fn key_after(day: Date, nights: u32) -> i32 {
    day.checked_add(i64::from(nights).days())
        .map_or(i32::MAX, date_key)
}

pub(super) fn decode(
    code: &str,
    check_in: i32,
    check_out: i32,
    expires: i64,
) -> Result<Occupancy, StoreError> {
    let range = match (date_from_key(check_in), date_from_key(check_out)) {
        (Some(a), Some(b)) => NightRange::new(a, b).ok(),
        _ => None,
    }
    .ok_or_else(|| StoreError::Corrupt(format!("occupancy entry {code} has bad dates")))?;
    let hold_expires_at = (expires != NO_EXPIRY)
        .then(|| Timestamp::from_millisecond(expires).ok())
        .flatten();
    Ok(Occupancy {
        range,
        hold_expires_at,
    })
}

/// Calls `visit` with each entry of `accommodation` that overlaps `window`; returns how many
/// index entries were read to find them (the cost of one availability check).
fn scan(
    table: &impl ReadableTable<Key, Val>,
    accommodation: u64,
    window: &NightRange,
    mut visit: impl FnMut(&str, Occupancy),
) -> Result<usize, StoreError> {
    let after = date_key(window.check_in()) + 1;
    let before = date_key(window.check_out());
    let mut read = 0;
    for class in 0..CLASSES {
        let upto = match CLASS_NIGHTS.get(usize::from(class)) {
            Some(&longest) => (
                accommodation,
                class,
                key_after(window.check_out(), longest),
                "",
            ),
            None => (accommodation, class + 1, i32::MIN, ""),
        };
        for entry in table.range((accommodation, class, after, "")..upto)? {
            read += 1;
            let (k, v) = entry?;
            let (_, _, check_out, code) = k.value();
            let (check_in, expires) = v.value();
            if check_in < before {
                visit(code, decode(code, check_in, check_out, expires)?);
            }
        }
    }
    Ok(read)
}

/// The entries of `accommodation` that overlap `window`, with their codes.
pub fn overlapping(
    table: &impl ReadableTable<Key, Val>,
    accommodation: u64,
    window: &NightRange,
) -> Result<Vec<(String, Occupancy)>, StoreError> {
    let mut found = Vec::new();
    scan(table, accommodation, window, |code, o| {
        found.push((code.to_owned(), o));
    })?;
    Ok(found)
}

/// Calls `visit` with every entry of `accommodation` whose check-out is after `since`.
pub fn ending_after(
    table: &impl ReadableTable<Key, Val>,
    accommodation: u64,
    since: Date,
    mut visit: impl FnMut(&str, Occupancy) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let after = date_key(since) + 1;
    for class in 0..CLASSES {
        let entries = table
            .range((accommodation, class, after, "")..(accommodation, class + 1, i32::MIN, ""))?;
        for entry in entries {
            let (k, v) = entry?;
            let (_, _, check_out, code) = k.value();
            let (check_in, expires) = v.value();
            visit(code, decode(code, check_in, check_out, expires)?)?;
        }
    }
    Ok(())
}

/// Codes of the reservations in the index whose check-out is `day` or earlier.
pub fn reservations_ended_by(txn: &WriteTransaction, day: Date) -> Result<Vec<String>, StoreError> {
    let table = txn.open_table(OCCUPANCY)?;
    let upto = date_key(day) + 1;
    let mut codes = Vec::new();
    let mut from = 0;
    loop {
        let Some(first) = table.range((from, 0, i32::MIN, "")..)?.next() else {
            break;
        };
        let accommodation = first?.0.value().0;
        for class in 0..CLASSES {
            let ended = table
                .range((accommodation, class, i32::MIN, "")..(accommodation, class, upto, ""))?;
            for entry in ended {
                let (k, _) = entry?;
                let code = k.value().3;
                if is_reservation_code(code) {
                    codes.push(code.to_owned());
                }
            }
        }
        match accommodation.checked_add(1) {
            Some(next) => from = next,
            None => break,
        }
    }
    Ok(codes)
}

/// Files an entry in `table` (also used by the schema migration).
pub(super) fn insert(
    table: &mut redb::Table<Key, Val>,
    accommodation: u64,
    code: &str,
    occupancy: &Occupancy,
) -> Result<(), StoreError> {
    let expires = occupancy
        .hold_expires_at
        .map_or(NO_EXPIRY, |t| t.as_millisecond());
    table.insert(
        key(accommodation, &occupancy.range, code),
        (date_key(occupancy.range.check_in()), expires),
    )?;
    Ok(())
}

/// Adds or replaces the entry for `code`.
pub fn put(
    txn: &WriteTransaction,
    accommodation: u64,
    code: &str,
    occupancy: &Occupancy,
) -> Result<(), StoreError> {
    insert(
        &mut txn.open_table(OCCUPANCY)?,
        accommodation,
        code,
        occupancy,
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
    table.remove(key(accommodation, range, code))?;
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
    let mut taken = Vec::new();
    scan(&table, accommodation, range, |code, o| {
        if Some(code) != except {
            taken.push(o);
        }
    })?;
    Ok(crate::domain::availability::is_free(range, &taken, now))
}

#[cfg(test)]
mod tests;
