//! Accommodation records.

use redb::{ReadTransaction, ReadableTable};

use super::tables::{ACCOMMODATIONS, ICAL_EXPORTS, META, OCCUPANCY, encode};
use super::unreadable::decode_at;
use super::{Store, StoreError, occupancy};
use crate::domain::accommodation::{Accommodation, AccommodationSpec, InvalidAccommodation};
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
    #[error(transparent)]
    Invalid(#[from] InvalidAccommodation),
}

pub(super) fn load(
    txn: &ReadTransaction,
    id: AccommodationId,
) -> Result<Option<Accommodation>, StoreError> {
    let table = txn.open_table(ACCOMMODATIONS)?;
    table
        .get(id.get())?
        .map(|v| decode_at(&ACCOMMODATIONS, id.get(), v.value()))
        .transpose()
}

pub(super) fn load_for_write(
    txn: &redb::WriteTransaction,
    id: AccommodationId,
) -> Result<Option<Accommodation>, StoreError> {
    let table = txn.open_table(ACCOMMODATIONS)?;
    table
        .get(id.get())?
        .map(|v| decode_at(&ACCOMMODATIONS, id.get(), v.value()))
        .transpose()
}

impl Store {
    /// Every readable accommodation, by id.
    pub fn accommodations(&self) -> Result<Vec<Accommodation>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(ACCOMMODATIONS)?;
            let mut out = Vec::new();
            for entry in table.iter()? {
                let (k, v) = entry?;
                let decoded = decode_at(&ACCOMMODATIONS, k.value(), v.value());
                out.extend(self.unreadable.skip(decoded)?);
            }
            Ok(out)
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

    /// Applies `change` to accommodation `id` atomically; nothing is written when it refuses.
    pub async fn update_accommodation(
        &self,
        id: AccommodationId,
        change: impl FnOnce(&mut AccommodationSpec) -> Result<(), InvalidAccommodation> + Send + 'static,
    ) -> Result<Result<Accommodation, AccommodationError>, StoreError> {
        self.writer
            .write(move |txn| {
                let Some(mut acc) = load_for_write(txn, id)? else {
                    return Ok(Err(AccommodationError::NotFound));
                };
                if let Err(e) = change(&mut acc.spec) {
                    return Ok(Err(e.into()));
                }
                txn.open_table(ACCOMMODATIONS)?
                    .insert(id.get(), encode(&acc).as_slice())?;
                Ok(Ok(acc))
            })
            .await
    }
}
