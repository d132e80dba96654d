//! A change to an accommodation as the admin API takes it: every field optional, and the
//! read-only `id` accepted, so that a `PUT` of the object exactly as `GET` returned it works
//! and a `PATCH` carries only what changes. The result is checked as a whole by the same rules
//! as a new accommodation ([`AccommodationInput::validate`]).

use serde::Deserialize;

use super::accommodation::{
    AccommodationInput, AccommodationSpec, Day, InvalidAccommodation, Kind, Season,
};
use super::ids::AccommodationId;
use super::money::{Money, Rate};

/// An accommodation as `GET` shows it, every field optional (absent or null: see the method).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccommodationChange {
    /// Read-only: accepted only as the accommodation's own id.
    pub id: Option<u64>,
    pub name: Option<String>,
    pub kind: Option<Kind>,
    pub capacity: Option<u32>,
    #[schema(value_type = Option<String>, example = "12000.00")]
    pub base_price: Option<Money>,
    #[schema(value_type = Option<String>, example = "1.2")]
    pub weekend_multiplier: Option<Rate>,
    pub weekend_nights: Option<Vec<Day>>,
    pub min_stay: Option<u32>,
    pub seasons: Option<Vec<Season>>,
    pub active: Option<bool>,
    pub description: Option<String>,
}

/// Why a read-only field was refused.
const READ_ONLY: &str = "is read-only: send this accommodation's id, or leave it out";

const fn invalid(field: &'static str, reason: &'static str) -> InvalidAccommodation {
    InvalidAccommodation { field, reason }
}

impl AccommodationChange {
    /// Refuses a read-only field that names another accommodation.
    fn check_read_only(&self, id: AccommodationId) -> Result<(), InvalidAccommodation> {
        match self.id {
            Some(given) if given != id.get() => Err(invalid("id", READ_ONLY)),
            _ => Ok(()),
        }
    }

    /// The whole new description of accommodation `id` (`PUT`): name, kind, capacity and base
    /// price are required, absent optional fields take their defaults.
    pub fn replacement(
        self,
        id: AccommodationId,
    ) -> Result<AccommodationSpec, InvalidAccommodation> {
        self.check_read_only(id)?;
        AccommodationInput {
            name: self.name.ok_or(invalid("name", "is required"))?,
            kind: self.kind.ok_or(invalid("kind", "is required"))?,
            capacity: self.capacity.ok_or(invalid("capacity", "is required"))?,
            base_price: self
                .base_price
                .ok_or(invalid("base_price", "is required"))?,
            weekend_multiplier: self.weekend_multiplier,
            weekend_nights: self.weekend_nights,
            min_stay: self.min_stay,
            seasons: self.seasons.unwrap_or_default(),
            active: self.active,
            description: self.description,
        }
        .validate()
    }

    /// `current` (accommodation `id`) with the fields given changed (`PATCH`; absent or null
    /// fields stay as they are), checked as a whole.
    pub fn applied_to(
        self,
        id: AccommodationId,
        current: &AccommodationSpec,
    ) -> Result<AccommodationSpec, InvalidAccommodation> {
        self.check_read_only(id)?;
        let c = current.clone();
        AccommodationInput {
            name: self.name.unwrap_or(c.name),
            kind: self.kind.unwrap_or(c.kind),
            capacity: self.capacity.unwrap_or(c.capacity),
            base_price: self.base_price.unwrap_or(c.base_price),
            weekend_multiplier: Some(self.weekend_multiplier.unwrap_or(c.weekend_multiplier)),
            weekend_nights: Some(self.weekend_nights.unwrap_or(c.weekend_nights)),
            min_stay: Some(self.min_stay.unwrap_or(c.min_stay)),
            seasons: self.seasons.unwrap_or(c.seasons),
            active: Some(self.active.unwrap_or(c.active)),
            description: Some(self.description.unwrap_or(c.description)),
        }
        .validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::accommodation::Accommodation;
    use crate::domain::accommodation::tests::input;

    fn shown() -> Accommodation {
        Accommodation {
            id: AccommodationId::new(7),
            spec: input().validate().unwrap(),
        }
    }

    #[test]
    fn the_object_as_shown_replaces_itself_unchanged() {
        let acc = shown();
        let echoed: AccommodationChange =
            serde_json::from_value(serde_json::to_value(&acc).unwrap()).unwrap();
        assert_eq!(echoed.clone().replacement(acc.id).unwrap(), acc.spec);
        assert_eq!(echoed.applied_to(acc.id, &acc.spec).unwrap(), acc.spec);
    }

    #[test]
    fn a_patch_changes_only_its_fields_and_is_checked_as_a_whole() {
        let acc = shown();
        let patch: AccommodationChange =
            serde_json::from_str(r#"{"capacity": 6, "description": null}"#).unwrap();
        let changed = patch.applied_to(acc.id, &acc.spec).unwrap();
        assert_eq!(changed.capacity, 6);
        assert_eq!(changed.name, acc.spec.name);
        assert_eq!(changed.weekend_multiplier, acc.spec.weekend_multiplier);
        let bad: AccommodationChange = serde_json::from_str(r#"{"capacity": 0}"#).unwrap();
        assert_eq!(
            bad.applied_to(acc.id, &acc.spec).unwrap_err().field,
            "capacity"
        );
    }

    #[test]
    fn another_id_is_refused_by_name_and_a_replacement_needs_the_required_fields() {
        let acc = shown();
        let moved: AccommodationChange = serde_json::from_str(r#"{"id": 8}"#).unwrap();
        let err = moved.applied_to(acc.id, &acc.spec).unwrap_err();
        assert_eq!(err.field, "id");
        let partial: AccommodationChange = serde_json::from_str(r#"{"name": "X"}"#).unwrap();
        assert_eq!(partial.replacement(acc.id).unwrap_err().field, "kind");
        assert!(serde_json::from_str::<AccommodationChange>(r#"{"slug": "x"}"#).is_err());
    }
}
