//! Accommodation records.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use redb::{ReadTransaction, ReadableTable};

use super::tables::{ACCOMMODATIONS, ICAL_EXPORTS, META, OCCUPANCY, decode, encode};
use super::{Store, StoreError, occupancy};
use crate::domain::accommodation::{Accommodation, AccommodationSpec};
use crate::domain::availability::Occupancy;
use crate::domain::dates::NightRange;
use crate::domain::ical::export::ExportSettings;
use crate::domain::ids::AccommodationId;

const NEXT_ID: &str = "next_accommodation_id";

/// Why an accommodation change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccommodationError {
    #[error("no accommodation with that id")]
    NotFound,
}

/// The last decoding of each accommodation record, with the bytes it came from. Every quote
/// and hold reads its accommodation; parsing the JSON each time was a tenth of a quote's work.
/// Reusing a value only when the stored bytes are equal keeps it right in any transaction,
/// whatever changed meanwhile, with no invalidation to get wrong.
fn decoded(id: u64, bytes: &[u8]) -> Result<Accommodation, StoreError> {
    type Decoded = HashMap<u64, Arc<(Vec<u8>, Accommodation)>>;
    /// Hosts have a handful; past this many the map starts afresh.
    const MOST: usize = 4096;
    static LAST: OnceLock<Mutex<Decoded>> = OnceLock::new();
    let last = LAST.get_or_init(Default::default);
    let known = last
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&id)
        .cloned();
    if let Some(entry) = known.filter(|e| e.0 == bytes) {
        return Ok(entry.1.clone());
    }
    let acc: Accommodation = decode(bytes)?;
    let mut map = last.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= MOST {
        map.clear();
    }
    map.insert(id, Arc::new((bytes.to_vec(), acc.clone())));
    Ok(acc)
}

pub(super) fn load(
    txn: &ReadTransaction,
    id: AccommodationId,
) -> Result<Option<Accommodation>, StoreError> {
    let table = txn.open_table(ACCOMMODATIONS)?;
    table
        .get(id.get())?
        .map(|v| decoded(id.get(), v.value()))
        .transpose()
}

pub(super) fn load_for_write(
    txn: &redb::WriteTransaction,
    id: AccommodationId,
) -> Result<Option<Accommodation>, StoreError> {
    let table = txn.open_table(ACCOMMODATIONS)?;
    table
        .get(id.get())?
        .map(|v| decoded(id.get(), v.value()))
        .transpose()
}

impl Store {
    /// Every accommodation, by id.
    pub fn accommodations(&self) -> Result<Vec<Accommodation>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(ACCOMMODATIONS)?;
            table.iter()?.map(|e| decode(e?.1.value())).collect()
        })
    }

    pub fn accommodation(&self, id: AccommodationId) -> Result<Option<Accommodation>, StoreError> {
        self.read(|txn| load(txn, id))
    }

    /// An accommodation and what holds its nights within `window`, from one snapshot.
    pub fn accommodation_with_occupancy(
        &self,
        id: AccommodationId,
        window: NightRange,
    ) -> Result<Option<(Accommodation, Vec<Occupancy>)>, StoreError> {
        self.read(|txn| {
            let Some(acc) = load(txn, id)? else {
                return Ok(None);
            };
            let table = txn.open_table(OCCUPANCY)?;
            let taken = occupancy::overlapping(&table, id.get(), &window)?
                .into_iter()
                .map(|(_, o)| o)
                .collect();
            Ok(Some((acc, taken)))
        })
    }

    /// Adds an accommodation with the settings of its iCal export.
    pub async fn create_accommodation(
        &self,
        spec: AccommodationSpec,
        export: ExportSettings,
    ) -> Result<Accommodation, StoreError> {
        self.writer
            .write(move |txn| {
                let id = {
                    let mut meta = txn.open_table(META)?;
                    let id = meta.get(NEXT_ID)?.map_or(1, |v| v.value());
                    meta.insert(NEXT_ID, id + 1)?;
                    id
                };
                let acc = Accommodation {
                    id: AccommodationId::new(id),
                    spec,
                };
                txn.open_table(ACCOMMODATIONS)?
                    .insert(id, encode(&acc).as_slice())?;
                txn.open_table(ICAL_EXPORTS)?
                    .insert(id, encode(&export).as_slice())?;
                Ok(acc)
            })
            .await
    }

    /// Applies `change` to accommodation `id` atomically.
    pub async fn update_accommodation(
        &self,
        id: AccommodationId,
        change: impl FnOnce(&mut AccommodationSpec) + Send + 'static,
    ) -> Result<Result<Accommodation, AccommodationError>, StoreError> {
        self.writer
            .write(move |txn| {
                let Some(mut acc) = load_for_write(txn, id)? else {
                    return Ok(Err(AccommodationError::NotFound));
                };
                change(&mut acc.spec);
                txn.open_table(ACCOMMODATIONS)?
                    .insert(id.get(), encode(&acc).as_slice())?;
                Ok(Ok(acc))
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::accommodation::tests::input;

    #[test]
    fn a_changed_record_is_decoded_again_and_an_unchanged_one_reused() {
        let id = u64::MAX - 7;
        let mut acc = Accommodation {
            id: AccommodationId::new(id),
            spec: input().validate().unwrap(),
        };
        let first = encode(&acc);
        assert_eq!(decoded(id, &first).unwrap(), acc);
        assert_eq!(decoded(id, &first).unwrap(), acc);
        acc.spec.capacity += 1;
        let second = encode(&acc);
        assert_eq!(decoded(id, &second).unwrap(), acc);
        assert!(decoded(id, b"{not json").is_err());
    }
}
