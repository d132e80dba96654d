//! The host's accommodations: add (each with the secrets of its iCal export), change, put on
//! or take off sale, and the ones on sale as guests see them.

use jiff::Timestamp;

use crate::domain::accommodation::{Accommodation, AccommodationSpec};
use crate::domain::accommodation_change::AccommodationChange;
use crate::domain::ical::export::ExportSettings;
use crate::domain::ids::AccommodationId;
use crate::secret::random_hex;
use crate::store::{AccommodationError, Store, StoreError};

/// The accommodation use cases; cheap to clone.
#[derive(Clone)]
pub struct Accommodations {
    store: Store,
}

/// Fresh export settings: a new URL token and UID key, imported stays not re-exported.
pub fn new_export_settings(now: Timestamp) -> ExportSettings {
    ExportSettings {
        token: new_export_token(),
        uid_key: random_hex(32),
        include_imported: false,
        rotated_at: now,
    }
}

/// A new secret for an export URL (128 random bits).
pub fn new_export_token() -> String {
    random_hex(16)
}

impl Accommodations {
    pub fn new(store: Store) -> Accommodations {
        Accommodations { store }
    }

    /// Every accommodation, on sale or not.
    pub fn all(&self) -> Result<Vec<Accommodation>, StoreError> {
        self.store.accommodations()
    }

    /// The accommodations on sale.
    pub fn active(&self) -> Result<Vec<Accommodation>, StoreError> {
        let mut all = self.store.accommodations()?;
        all.retain(|a| a.spec.active);
        Ok(all)
    }

    /// Ids and names of the accommodations on sale (what the bot recognizes in a message).
    pub fn active_names(&self) -> Result<Vec<(u64, String)>, StoreError> {
        Ok(self
            .active()?
            .into_iter()
            .map(|a| (a.id.get(), a.spec.name))
            .collect())
    }

    /// Adds an accommodation.
    pub async fn create(&self, spec: AccommodationSpec) -> Result<Accommodation, StoreError> {
        self.store
            .create_accommodation(spec, new_export_settings(Timestamp::now()))
            .await
    }

    /// Replaces what the host set on an accommodation.
    pub async fn replace(
        &self,
        id: AccommodationId,
        spec: AccommodationSpec,
    ) -> Result<Result<Accommodation, AccommodationError>, StoreError> {
        self.store
            .update_accommodation(id, move |s| {
                *s = spec;
                Ok(())
            })
            .await
    }

    /// Changes the fields `change` gives (the others stay), checked as a whole against the
    /// accommodation as it is in the same write.
    pub async fn patch(
        &self,
        id: AccommodationId,
        change: AccommodationChange,
    ) -> Result<Result<Accommodation, AccommodationError>, StoreError> {
        self.store
            .update_accommodation(id, move |s| {
                *s = change.applied_to(id, s)?;
                Ok(())
            })
            .await
    }

    /// Puts an accommodation on sale or takes it off (existing bookings stay).
    pub async fn set_active(
        &self,
        id: AccommodationId,
        active: bool,
    ) -> Result<Result<Accommodation, AccommodationError>, StoreError> {
        self.store
            .update_accommodation(id, move |s| {
                s.active = active;
                Ok(())
            })
            .await
    }
}
