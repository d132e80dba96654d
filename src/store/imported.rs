//! Stays imported from feeds: their records and the index of each feed's UIDs, and the ones
//! that land on local reservations (conflicts the host sorts out).

use jiff::Timestamp;
use redb::{ReadableTable, WriteTransaction};

use super::tables::{FEED_UIDS, IMPORTED, OCCUPANCY, decode, encode};
use super::{Store, StoreError, occupancy};
use crate::domain::availability::Occupancy;
use crate::domain::ical::import::ImportedStay;
use crate::domain::ids::is_reservation_code;

/// An imported stay that overlaps local bookings or live holds: the OTA booking is real, so
/// it still holds its dates, but the host has to sort it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub stay: ImportedStay,
    /// Codes of the overlapping local reservations.
    pub reservations: Vec<String>,
}
pub(super) fn feed_stays(
    txn: &WriteTransaction,
    feed_id: u64,
) -> Result<Vec<ImportedStay>, StoreError> {
    let codes: Vec<String> = {
        let uids = txn.open_table(FEED_UIDS)?;
        uids.range((feed_id, "")..(feed_id + 1, ""))?
            .map(|e| e.map(|(_, v)| v.value().to_owned()))
            .collect::<Result<_, _>>()?
    };
    let table = txn.open_table(IMPORTED)?;
    let mut stays = Vec::with_capacity(codes.len());
    for code in codes {
        if let Some(v) = table.get(code.as_str())? {
            stays.push(decode(v.value())?);
        }
    }
    Ok(stays)
}

pub(super) fn remove_stay(txn: &WriteTransaction, stay: &ImportedStay) -> Result<(), StoreError> {
    txn.open_table(IMPORTED)?.remove(stay.code.as_str())?;
    txn.open_table(FEED_UIDS)?
        .remove((stay.feed_id, stay.uid.as_str()))?;
    occupancy::remove(txn, stay.accommodation_id, &stay.code, &stay.range)
}

pub(super) fn put_stay(txn: &WriteTransaction, stay: &ImportedStay) -> Result<(), StoreError> {
    txn.open_table(IMPORTED)?
        .insert(stay.code.as_str(), encode(stay).as_slice())?;
    txn.open_table(FEED_UIDS)?
        .insert((stay.feed_id, stay.uid.as_str()), stay.code.as_str())?;
    let held = Occupancy {
        range: stay.range,
        hold_expires_at: None,
    };
    occupancy::put(txn, stay.accommodation_id, &stay.code, &held)
}

/// Local reservations (confirmed, or holds still live at `now`) overlapping `stay`.
pub(super) fn overlapping_reservations(
    table: &impl ReadableTable<occupancy::Key, occupancy::Val>,
    stay: &ImportedStay,
    now: Timestamp,
) -> Result<Vec<String>, StoreError> {
    Ok(
        occupancy::overlapping(table, stay.accommodation_id, &stay.range)?
            .into_iter()
            .filter(|(code, o)| is_reservation_code(code) && o.is_live(now))
            .map(|(code, _)| code)
            .collect(),
    )
}

impl Store {
    /// Stays imported into an accommodation (or all), by code.
    pub fn imported_stays(
        &self,
        accommodation_id: Option<u64>,
    ) -> Result<Vec<ImportedStay>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(IMPORTED)?;
            let mut out = Vec::new();
            for entry in table.iter()? {
                let stay: ImportedStay = decode(entry?.1.value())?;
                if accommodation_id.is_none_or(|a| a == stay.accommodation_id) {
                    out.push(stay);
                }
            }
            Ok(out)
        })
    }

    /// The imported stay `code`, if it is still held.
    pub fn imported_stay(&self, code: &str) -> Result<Option<ImportedStay>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(IMPORTED)?;
            table.get(code)?.map(|v| decode(v.value())).transpose()
        })
    }

    /// Imported stays that overlap local bookings or live holds now.
    pub fn ical_conflicts(
        &self,
        accommodation_id: Option<u64>,
        now: Timestamp,
    ) -> Result<Vec<Conflict>, StoreError> {
        let stays = self.imported_stays(accommodation_id)?;
        self.read(|txn| {
            let table = txn.open_table(OCCUPANCY)?;
            let mut out = Vec::new();
            for stay in stays {
                let reservations = overlapping_reservations(&table, &stay, now)?;
                if !reservations.is_empty() {
                    out.push(Conflict { stay, reservations });
                }
            }
            Ok(out)
        })
    }
}
